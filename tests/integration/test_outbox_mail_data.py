"""The outbox row holds no copy of its notification's data (notifications view version 3):
the mailer reads the data of the notification it names, the same value the row held before,
after the view is caught up and after it is rebuilt; on SQLite and PostgreSQL views."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from infrastructure.mail_outbox import SqlOutboxStore
from infrastructure.notification_store import NotificationStore
from infrastructure.views_db import create_views_engine
from tests.notification_builders import NotifyWorld, notify_world


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = create_views_engine(url)
    yield engine
    engine.dispose()


def _mail_data(nw: NotifyWorld) -> dict[str, object]:
    """Each outbox row's mail data as the mailer gets it, by outbox id."""
    view = nw.runner.tables("notifications")
    outbox = SqlOutboxStore(nw.engine, view, NotificationStore(nw.engine, view))
    found = {}
    for row in nw.rows("outbox"):
        mail = outbox.get(row["id"])
        assert mail is not None
        found[str(row["id"])] = (mail.recipient_id, mail.kind, mail.data)
    return found


def test_each_mail_carries_its_notifications_data_caught_up_and_rebuilt(engine: Engine) -> None:
    nw = notify_world(engine)
    nw.request()
    nw.confirm(nw.instant("2026-07-01", "2026-07-03"))
    notes = {n["id"]: n for n in nw.rows()}
    outbox = nw.rows("outbox")
    assert len(outbox) == len(notes) >= 4
    assert "data" not in outbox[0]  # written once, in the notification

    caught_up = _mail_data(nw)
    for row in outbox:
        note = notes[row["notification_id"]]
        assert caught_up[str(row["id"])] == (note["recipient_id"], note["kind"], note["data"])
    assert any("message" in data for _, kind, data in caught_up.values())  # the request's

    nw.runner.rebuild("notifications")
    assert _mail_data(nw) == caught_up
