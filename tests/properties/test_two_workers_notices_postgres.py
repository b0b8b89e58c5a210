"""The two-worker stateful property (tests/properties/test_two_workers_unread_postgres.py,
where no worker listens: every notice is dropped) with both workers hearing each other's
stream notices: the answers are still the read-first answers, never overbooked."""

from __future__ import annotations

import pytest

from application.store import EventStore
from infrastructure.stream_notices import stream_notice_listener
from tests.integration.shared_stores import two_pg_workers  # noqa: F401 - the fixture
from tests.properties.test_two_workers_unread_postgres import _run

pytestmark = pytest.mark.postgres


def test_two_workers_hearing_each_others_notices_never_overbook_nor_book_what_changed(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    listeners = [stream_notice_listener(a), stream_notice_listener(b)]
    try:
        for listener in listeners:
            assert listener is not None
            listener.start()
            assert listener.connected.wait(10)
        _run(a, b)
        assert sum(listener.notices for listener in listeners if listener is not None) > 0
    finally:
        for listener in listeners:
            if listener is not None:
                listener.stop()
