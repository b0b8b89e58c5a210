"""Stream notices (infrastructure/stream_notices.py): a commit's NOTIFY names the streams it
wrote, and a worker hearing another's commit reads those cached streams first instead of
acting on them unread and conflicting. Two API workers' stores on one PostgreSQL database;
the payload's format without one."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from application.aggregate_cache import AggregateCache
from application.bookings import Bookings
from application.store import EventStore
from domain.calendar import calendar_id as calendar_of
from infrastructure.stream_notices import (
    MAX_PAYLOAD,
    StreamNoticeListener,
    apply_notice,
    notice_payload,
    read_payload,
    stream_notice_listener,
)
from tests.builders import make_world, place_night
from tests.integration.shared_stores import two_pg_workers  # noqa: F401 - the fixture
from tests.polling import eventually

FEES = {"service_fee_bp": 1200, "commission_bp": 300}
NIGHT = date(2026, 7, 10)


def _event(stream: uuid.UUID, version: int) -> StoredEvent:
    return StoredEvent(originator_id=stream, originator_version=version, topic="t", state=b"")


def test_the_payload_names_each_stream_written_past_its_start_at_its_last_version() -> None:
    calendar, booking = uuid.uuid4(), uuid.uuid4()
    events = [_event(calendar, 7), _event(booking, 1), _event(booking, 2), _event(calendar, 8)]
    token, streams = read_payload(notice_payload("abcd1234", events))
    assert token == "abcd1234"
    assert streams == [(calendar, 8)]  # the new booking: nobody can hold it cached
    assert read_payload(notice_payload("abcd1234", [_event(booking, 1)])) == ("abcd1234", [])


def test_a_payload_past_the_limit_says_everything_moved() -> None:
    events = [_event(uuid.uuid4(), 3) for _ in range(400)]
    payload = notice_payload("abcd1234", events)
    assert len(payload) <= MAX_PAYLOAD and read_payload(payload) == ("abcd1234", None)
    sixty_four = notice_payload("abcd1234", [_event(uuid.uuid4(), 3) for _ in range(64)])
    assert len(read_payload(sixty_four)[1] or []) == 64  # a full group of placements fits


class _Calendar:
    def __init__(self, version: int) -> None:
        self.id = uuid.uuid4()
        self.version = version
        self.pending_events: list[Any] = []


def test_a_notice_distrusts_entries_behind_it_until_they_catch_up_and_skips_own() -> None:
    cache = AggregateCache(10, (_Calendar,))
    kept = _Calendar(5)
    cache.put(kept)
    apply_notice(cache, "mine0000", notice_payload("mine0000", [_event(kept.id, 6)]))
    assert cache.trusted(kept.id)  # this worker's own commit
    apply_notice(cache, "mine0000", notice_payload("them0000", [_event(kept.id, 5)]))
    assert cache.trusted(kept.id)  # not behind it
    apply_notice(cache, "mine0000", notice_payload("them0000", [_event(kept.id, 6)]))
    assert not cache.trusted(kept.id)
    kept.version = 6
    cache.put(kept)  # a load brought it there
    assert cache.trusted(kept.id)
    apply_notice(cache, "mine0000", "")  # a bare NOTIFY
    apply_notice(cache, "mine0000", notice_payload("them0000", [_event(uuid.uuid4(), 1)]))
    assert cache.trusted(kept.id) and len(cache) == 1
    apply_notice(cache, "mine0000", "them0000*")  # too many to name: forget them all
    assert len(cache) == 0


def _listening(store: EventStore) -> StreamNoticeListener:
    listener = stream_notice_listener(store)
    assert listener is not None
    listener.start()
    assert listener.connected.wait(10)
    return listener


def _wait_until_distrusted(store: EventStore, stream: uuid.UUID) -> None:
    cache = store.aggregate_cache
    assert cache is not None
    # the notice arrives on the listener's thread
    eventually(lambda: not cache.trusted(stream), "no notice", timeout=10, interval=0.02)


@pytest.mark.postgres
def test_another_workers_booking_makes_the_next_placement_here_read_first(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    world = make_world(a)
    listing_id = world.active_listing()
    a_bookings, b_bookings = Bookings(a, **FEES), Bookings(b, **FEES)
    place_night(b_bookings, listing_id, NIGHT - timedelta(days=5))  # warm in B
    calendar_id = calendar_of(listing_id)
    listener = _listening(b)
    try:
        place_night(b_bookings, listing_id, NIGHT - timedelta(days=4))  # B's own commit
        place_night(a_bookings, listing_id, NIGHT)  # A books the same listing
        _wait_until_distrusted(b, calendar_id)
        assert b.load_cached(listing_id, calendar_id) is None  # reads first
        place_night(b_bookings, listing_id, NIGHT + timedelta(days=1))
        assert b.committer is not None and b.committer.stale_members == 0  # no conflict
        assert b.aggregate_cache is not None and b.aggregate_cache.trusted(calendar_id)
        assert b.load_cached(listing_id, calendar_id) is not None  # caught up: unread again
        assert listener.notices >= 2
    finally:
        listener.stop()
    assert not listener.connected.is_set()
