"""The outbox claim's lease and fencing on the view database (SQLite): a live claim
holds; a lapsed one is reclaimed under a new attempt number, after which the stale holder
can neither mark the row sent nor re-open it; the dispatcher sends a lapsed row through a
job named by the lapsed attempt (two dispatchers seeing one lapse queue one job)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import Engine

from infrastructure.views_db import create_views_engine
from tests.integration.test_notification_mail import Mailing, smtp_transport
from tests.notification_builders import SmtpServer, notify_world


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def one_row(m: Mailing) -> UUID:
    m.nw.world.active_listing()  # one notification: the owner's listing approved
    m.nw.runner.catch_up()
    (row,) = m.outbox.pending(10)
    return row


def test_a_stale_holder_cannot_move_a_row_another_worker_reclaimed(
    engine: Engine, smtp: SmtpServer
) -> None:
    m = Mailing(notify_world(engine), smtp_transport(smtp))
    row = one_row(m)
    assert m.outbox.claim(row) == ("claimed", 1)
    assert m.outbox.claim(row) == ("sending", 1)  # a live claim holds
    assert m.outbox.expired(10) == []

    m.outbox.lease = timedelta(0)  # the first holder stalled past its lease
    assert m.outbox.expired(10) == [(row, 1)]
    assert m.outbox.claim(row) == ("claimed", 2)
    m.outbox.lease = timedelta(minutes=10)

    m.outbox.release(row, "stale worker's refusal", attempt=1)
    m.outbox.mark_sent(row, "<stale@rentbook.test>", attempt=1)
    state = m.outbox.state(row)
    assert state is not None and (state["state"], state["attempts"]) == ("sending", 2)
    assert state["message_id"] is None  # neither stale move landed

    m.outbox.mark_sent(row, f"<{row}@rentbook.test>", attempt=2)
    state = m.outbox.state(row)
    assert state is not None and (state["state"], state["message_id"]) == (
        "sent",
        f"<{row}@rentbook.test>",
    )
    m.outbox.release(row, "too late", attempt=2)  # sent is final
    assert m.outbox.claim(row) == ("sent", 2)


def test_a_lapsed_claim_is_sent_by_a_job_named_by_its_attempt(
    engine: Engine, smtp: SmtpServer
) -> None:
    m = Mailing(notify_world(engine), smtp_transport(smtp))
    row = one_row(m)
    assert m.outbox.claim(row) == ("claimed", 1)  # its worker dies without a word

    m.outbox.lease = timedelta(0)
    assert m.dispatch() == 1
    assert m.jobs.get(f"mail:{row}:1") is not None  # named by the lapsed attempt
    assert m.dispatch() == 0  # sent: nothing lapsed any more
    (mail,) = smtp.inbox.messages
    assert mail["Message-ID"] == f"<{row}@rentbook.test>"
    state = m.outbox.state(row)
    assert state is not None and (state["state"], state["attempts"]) == ("sent", 2)
