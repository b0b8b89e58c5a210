"""Unread placements and stream notices under the interleavings their own modules leave out
(PostgreSQL, two API workers' stores on one database): a group in which EVERY member acted
on stale cached state (nothing of it stored, each retried on a read and answered as a
read-first placement is, the hash chain intact), and a listener whose LISTEN connection the
server kills (it reconnects, forgets what it may have missed, hears again, and leaves no
connection behind when stopped), and a checked insert that stores nothing telling the other
workers nothing (its notice would distrust their current entries at a version nobody wrote)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from application.bookings import Bookings
from application.group_commit import StaleStreamsError
from application.store import EventStore
from domain.calendar import ListingCalendar
from domain.errors import RuleViolation, UnavailableError
from infrastructure.audit_log import verify_log
from infrastructure.event_log import open_event_log
from infrastructure.settings import Settings
from infrastructure.stream_notices import StreamNoticeListener, stream_notice_listener
from tests.builders import NOW, make_world, place_night
from tests.integration.shared_stores import two_workers
from tests.integration.test_unread_placements_postgres import (
    FEES,
    NIGHT,
    held_group,
    used_on_night,
    warm,
)
from tests.polling import eventually

pytestmark = pytest.mark.postgres
NEW_PRICE = 17_300


@pytest.fixture
def settings(pg_url: str, tmp_path: Any) -> Settings:
    return Settings(
        environment="test",
        database_url=pg_url,
        data_dir=tmp_path,
        postgres_pool_size=3,
        postgres_max_overflow=3,
    )


@pytest.fixture
def stores(settings: Settings) -> Iterator[tuple[EventStore, EventStore]]:
    yield from two_workers(settings)


def test_a_group_whose_every_member_is_stale_stores_nothing_and_each_answers_as_a_read(
    stores: tuple[EventStore, EventStore], settings: Settings
) -> None:
    a, b = stores
    world = make_world(a)
    b_bookings = Bookings(b, **FEES)
    listing_ids = warm(world, b_bookings, 4)
    taken: list[uuid.UUID] = []

    def meanwhile() -> None:  # worker A reprices 1's night, deactivates 2 and books 3's
        world.listings.set_price(world.owner, listing_ids[1], NIGHT, NEW_PRICE, NOW)
        world.listings.deactivate(world.owner, listing_ids[2], NOW)
        taken.append(place_night(world.bookings, listing_ids[3], NIGHT))

    outcomes = held_group(b, b_bookings, listing_ids, meanwhile)
    [a_booking] = taken

    assert isinstance(outcomes[0], uuid.UUID)
    assert isinstance(outcomes[1], uuid.UUID)  # booked on a read, at the new price
    assert a.repository.get(outcomes[1]).quote["base_total"] == NEW_PRICE
    assert isinstance(outcomes[2], RuleViolation) and outcomes[2].code == "listing_not_active"
    assert isinstance(outcomes[3], UnavailableError)
    assert b.committer.stale_members == 3 and b.committer.fallbacks == 0
    assert [used_on_night(a, i) for i in listing_ids] == [1, 1, 0, 1]
    calendar = a.repository.get(ListingCalendar.create_id(listing_ids[3]))
    assert calendar.allocation(a_booking) is not None
    with open_event_log(settings) as log:  # the rejected statement left no hash link behind
        report = verify_log(log)
    assert report.broken is None and report.ok


def _listen_pids(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN %%'"
        ).fetchall()
    return [pid for (pid,) in rows]


def test_a_killed_listen_connection_reconnects_forgets_the_cache_and_hears_again(
    stores: tuple[EventStore, EventStore], pg_url: str
) -> None:
    a, b = stores
    world = make_world(a)
    a_bookings, b_bookings = Bookings(a, **FEES), Bookings(b, **FEES)
    listing_id = warm(world, b_bookings, 1)[0]
    calendar_id = ListingCalendar.create_id(listing_id)
    cache = b.aggregate_cache
    assert cache is not None and cache.trusted(calendar_id)
    listener = stream_notice_listener(b)
    assert isinstance(listener, StreamNoticeListener)
    listener.start()
    try:
        assert listener.connected.wait(10)
        (pid,) = _listen_pids(pg_url)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        eventually(
            lambda: _listen_pids(pg_url) not in ([], [pid]),
            "never reconnected",
            timeout=15.0,
            interval=0.05,
        )
        eventually(listener.connected.is_set, "never listening again", timeout=15.0, interval=0.05)
        # Notices sent while it was away are lost: nothing cached before is trusted now.
        assert len(cache) == 0 and b.load_cached(listing_id, calendar_id) is None
        place_night(b_bookings, listing_id, NIGHT - timedelta(days=1))  # read, cached again
        assert b.load_cached(listing_id, calendar_id) is not None
        place_night(a_bookings, listing_id, NIGHT)  # the other worker books it
        eventually(
            lambda: not cache.trusted(calendar_id),
            "no notice after the reconnect",
            timeout=15.0,
            interval=0.05,
        )
        place_night(b_bookings, listing_id, NIGHT + timedelta(days=1))  # reads first
        assert b.committer is not None and b.committer.stale_members == 0
    finally:
        listener.stop()
    assert not listener.connected.is_set()
    eventually(
        lambda: _listen_pids(pg_url) == [],
        "the LISTEN connection outlived stop",
        timeout=15.0,
        interval=0.05,
    )


def test_a_rejected_checked_insert_tells_no_other_worker_that_its_streams_moved(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    world = make_world(a)
    listener = stream_notice_listener(b)
    assert isinstance(listener, StreamNoticeListener)
    listener.start()
    try:
        assert listener.connected.wait(10)  # first: connecting forgets the cache
        first, second = warm(world, Bookings(b, **FEES), 2)
        cache = b.aggregate_cache
        assert cache is not None
        calendar = ListingCalendar.create_id(first)
        version = cache.version(calendar)
        event = StoredEvent(
            originator_id=calendar, originator_version=version + 1, topic="t", state=b"{}"
        )
        checks = [(calendar, version), (first, version + 99)]  # the listing check fails
        with pytest.raises(StaleStreamsError):
            a.recorder.insert_events_checked([event], checks)  # type: ignore[attr-defined]
        # Notices arrive in commit order: once A's next booking is heard, so was that one.
        place_night(world.bookings, second, NIGHT)
        seen = ListingCalendar.create_id(second)
        eventually(
            lambda: not cache.trusted(seen), "no notice of A's booking", timeout=15.0, interval=0.05
        )
        assert a.repository.get(calendar).version == version  # nothing was stored
        assert cache.trusted(calendar)  # so B's entry is current: acted on unread
        assert b.load_cached(first, calendar) is not None
    finally:
        listener.stop()
