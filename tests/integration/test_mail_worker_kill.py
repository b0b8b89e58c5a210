"""A REAL worker kill mid-send: a worker process hands its mail to an SMTP server
(aiosmtpd) that stalls after receiving DATA, and is SIGKILLed before the reply. The row
stays `sending` under its claim; once the lease lapses a second worker process reclaims
it and delivers. Every copy the server got carries the row's one Message-ID (receivers
de-duplicate), and our store marks the row `sent` once. Views on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from infrastructure.mail_outbox import SqlOutboxStore
from infrastructure.notification_store import NotificationStore
from infrastructure.views_db import create_views_engine
from tests.notification_builders import free_port, notify_world

ROOT = Path(__file__).resolve().parents[2]
LEASE = 5.0  # seconds: the second worker waits this out; far above kill-and-check time


class StallingInbox:
    """Keeps each DATA it receives; while `stall` is set it never answers it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.stall = threading.Event()
        self.received = threading.Event()
        self.closing = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))  # type: ignore[arg-type]
        self.received.set()
        while self.stall.is_set() and not self.closing.is_set():
            await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def views_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'views.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(views_url: str) -> Iterator[Engine]:
    engine = create_views_engine(views_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def server() -> Iterator[tuple[StallingInbox, int]]:
    inbox, port = StallingInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    inbox.closing.set()
    controller.stop()


def worker(url: str, port: int, outbox_id: str, mode: str) -> subprocess.Popen[str]:
    args = [url, str(port), str(LEASE), outbox_id, mode]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.mail_worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_worker_killed_mid_send_is_replaced_after_the_lease_with_the_same_message_id(
    engine: Engine, views_url: str, server: tuple[StallingInbox, int]
) -> None:
    inbox, port = server
    nw = notify_world(engine)
    nw.world.active_listing()  # one notification: the owner's listing approved
    nw.runner.catch_up()
    view = nw.runner.tables("notifications")
    lease = timedelta(seconds=LEASE)
    outbox = SqlOutboxStore(engine, view, NotificationStore(engine, view), lease=lease)
    (row,) = outbox.pending(10)

    inbox.stall.set()
    first = worker(views_url, port, str(row), "send")
    try:
        assert inbox.received.wait(60), first.communicate(timeout=5)
        first.send_signal(signal.SIGKILL)  # mid-send: DATA received, no reply yet
    finally:
        first.kill()
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    inbox.stall.clear()
    claimed = outbox.state(row)
    assert claimed is not None and (claimed["state"], claimed["attempts"]) == ("sending", 1)
    assert outbox.expired(10) == []  # the lease still holds: no dispatcher takes it yet

    second = worker(views_url, port, str(row), "dispatch")
    _out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err

    assert len(inbox.messages) == 2  # the killed worker's copy and the resend
    ids = {str(m["Message-ID"]) for m in inbox.messages}
    assert ids == {f"<{row}@rentbook.test>"}
    state = outbox.state(row)
    assert state is not None
    assert (state["state"], state["attempts"], state["message_id"]) == (
        "sent",
        2,
        f"<{row}@rentbook.test>",
    )
    assert outbox.claim(row) == ("sent", 2) and outbox.expired(10) == []
