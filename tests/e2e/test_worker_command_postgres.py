"""`rentbook worker` as docker-compose runs it (its own process, PostgreSQL + Redis): a
notification mail queued by another process is sent by the worker over SMTP to a server
the test runs, and SIGTERM (what `docker compose stop` sends) stops the worker cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from application.context import Actor, command_context
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from tests.builders import listing_spec
from tests.e2e.served import ROOT
from tests.e2e.test_serve_workers_postgres import CHEAP_ARGON2, _env
from tests.notification_builders import SmtpServer
from tests.polling import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
# The worker imports the whole app before it takes a job; the machine is shared.
STARTUP_SECONDS = 180.0


def _approved_listing_of_new_owner(container: Container) -> str:
    """An owner (their address returned) whose listing an admin approved: the owner is
    notified, in the app and by mail."""
    now = datetime.now(UTC)
    email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
    user_id, _ = container.identity.register(email, "correct horse battery", "Olivia", at=now)
    container.identity.mark_email_verified(user_id, at=now)
    owner, admin = Actor(user_id, "user"), Actor(uuid.uuid4(), "admin")
    with command_context(owner):
        listing_id, _ = container.listings.create(owner, listing_spec(), now)
        container.listings.submit(owner, listing_id, now)
    with command_context(admin):
        container.listings.approve(admin, listing_id, now)
    return email


def test_the_worker_command_sends_a_queued_mail_and_stops_on_sigterm(
    pg_settings: Settings, tmp_path: Path
) -> None:
    with SmtpServer() as smtp:
        smtp_env = {"host": "127.0.0.1", "port": smtp.port, "security": "none"}
        settings = pg_settings.model_copy(update={f"smtp_{k}": v for k, v in smtp_env.items()})
        container = build_container(settings, **CHEAP_ARGON2)  # no worker of its own
        try:
            owner_email = _approved_listing_of_new_owner(container)
            container.runner.catch_up()  # the notifications view fills the mail outbox
            wiring = container.notifications
            assert wiring is not None
            (outbox_id,) = [
                i for i in wiring.outbox.pending(10)
                if (row := wiring.outbox.get(i)) and row.kind == "listing_approved"
            ]  # fmt: skip
            assert wiring.dispatch() >= 1  # send jobs queued on Redis, for any worker

            env = {**os.environ, "PYTHONPATH": str(ROOT), **_env(settings)}
            env |= {f"RENTBOOK_SMTP_{k.upper()}": str(v) for k, v in smtp_env.items()}
            log = tmp_path / "worker.log"
            with log.open("wb") as out:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "interfaces.cli.main", "worker"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            try:
                (mail,) = eventually(
                    lambda: [
                        m for m in smtp.inbox.to(owner_email)
                        if m["X-Rentbook-Notification"] == "listing_approved"
                    ],
                    "the listing_approved mail through the worker",
                    timeout=STARTUP_SECONDS,
                    seen=lambda: log.read_text(errors="replace"),
                )  # fmt: skip
                assert mail["Subject"] and owner_email in str(mail["To"])
                assert worker.poll() is None, log.read_text()  # still waiting for work
            finally:
                worker.send_signal(signal.SIGTERM)
                code = worker.wait(60)
            output = log.read_text(errors="replace")
            assert code == 0, output
            assert "worker running" in output and "Traceback" not in output, output
            assert (wiring.outbox.state(outbox_id) or {}).get("state") == "sent"
        finally:
            container.close()
