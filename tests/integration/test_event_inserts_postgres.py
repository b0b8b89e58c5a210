"""The one-round-trip insert (`infrastructure.event_inserts`) on real PostgreSQL: a save is
all or nothing, takes the events table's lock first, and leaves the pooled connection as
it found it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from application.store import EventStore
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings

pytestmark = pytest.mark.postgres

TOPIC = "domain.booking:Booking.Placed"


@pytest.fixture
def store(pg_settings: Settings) -> Iterator[EventStore]:
    built = build_event_store(pg_settings)
    yield built
    built.close()


def event(stream: uuid.UUID, version: int, state: bytes = b"{}") -> StoredEvent:
    return StoredEvent(originator_id=stream, originator_version=version, topic=TOPIC, state=state)


def test_a_save_gets_its_notification_ids_in_the_order_of_its_events(store: EventStore) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    saved = [event(a, 1, b"\x00one"), event(b, 1, b"two\xff"), event(a, 2, b"three")]

    ids = store.recorder.insert_events(saved)

    assert ids is not None and len(ids) == 3 and list(ids) == sorted(ids)
    rows = store.recorder.select_notifications(ids[0], limit=10)
    assert [(n.id, n.originator_id, n.originator_version, n.state) for n in rows] == [
        (ids[0], a, 1, b"\x00one"),
        (ids[1], b, 1, b"two\xff"),
        (ids[2], a, 2, b"three"),
    ]


def test_a_save_that_conflicts_leaves_none_of_its_events_and_no_notify(
    store: EventStore, pg_url: str
) -> None:
    taken, fresh = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(pg_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {store.recorder.channel_name}")
        store.recorder.insert_events([event(taken, 1)])
        before = store.recorder.max_notification_id()

        with pytest.raises(IntegrityError):
            store.recorder.insert_events([event(fresh, 1), event(taken, 1)])

        assert store.recorder.select_events(fresh) == []
        assert store.recorder.max_notification_id() == before
        assert len(list(listener.notifies(timeout=0.5))) == 1  # the first save's only


def test_the_pooled_connection_keeps_its_own_lock_timeout_after_a_save(
    store: EventStore,
) -> None:
    store.recorder.insert_events([event(uuid.uuid4(), 1)])
    with store.recorder.datastore.get_connection() as conn:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SHOW lock_timeout").fetchone()["lock_timeout"] == "0"


def test_a_save_waits_for_the_events_tables_exclusive_lock(store: EventStore, pg_url: str) -> None:
    # ROW SHARE blocks EXCLUSIVE but not a bare INSERT's ROW EXCLUSIVE: the save waiting
    # here shows it locks the table before inserting.
    done = threading.Event()
    with psycopg.connect(pg_url) as holder:
        holder.execute(f"LOCK TABLE {store.recorder.events_table_name} IN ROW SHARE MODE")
        writer = threading.Thread(
            target=lambda: (store.recorder.insert_events([event(uuid.uuid4(), 1)]), done.set())
        )
        writer.start()
        assert not done.wait(0.5)
        holder.commit()
    assert done.wait(10)
    writer.join()
