"""The insert's four arrays go in binary (`%b`): every byte of a state, any topic text and
large versions come back exactly as saved, in one save of many events and in saves of
different sizes through the one prepared statement."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import StoredEvent

from application.store import EventStore
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings

pytestmark = pytest.mark.postgres

# What text arrays escape: quotes, backslashes, braces, commas, NUL, every other byte value.
AWKWARD = b'"\\{},NULL \x00\n' + bytes(range(256))


@pytest.fixture
def store(pg_settings: Settings) -> Iterator[EventStore]:
    built = build_event_store(pg_settings)
    yield built
    built.close()


def saved_rows(store: EventStore, ids: list[int]) -> list[tuple[object, ...]]:
    rows = store.recorder.select_notifications(ids[0], limit=len(ids) + 10)
    return [(n.originator_id, n.originator_version, n.topic, n.state) for n in rows]


def test_states_topics_and_versions_come_back_exactly(store: EventStore) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    saved = [
        StoredEvent(a, 1, "domain.booking:Booking.Placed", AWKWARD),
        StoredEvent(b, 1, 'a "quoted", {braced} topic \\ with é and 中', b""),
        StoredEvent(a, 2, "NULL", AWKWARD[::-1] * 50),
        StoredEvent(b, 2**40, "domain.x:Y", b"\x00"),
    ]

    ids = list(store.recorder.insert_events(saved) or [])

    assert saved_rows(store, ids) == [
        (e.originator_id, e.originator_version, e.topic, e.state) for e in saved
    ]


def test_saves_of_one_and_of_many_events_share_the_statement(store: EventStore) -> None:
    for count in (1, 7, 2, 1):
        stream = uuid.uuid4()
        saved = [
            StoredEvent(stream, v, "domain.booking:Booking.Placed", AWKWARD[v:])
            for v in range(1, count + 1)
        ]
        ids = list(store.recorder.insert_events(saved) or [])
        assert len(ids) == count
        assert [row[3] for row in saved_rows(store, ids)] == [e.state for e in saved]
