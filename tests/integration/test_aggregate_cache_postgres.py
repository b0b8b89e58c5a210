"""Two API workers' stores on one PostgreSQL database, each with its aggregate cache: a
cached listing or calendar is never used stale for a placement (the other worker's
deactivation, repricing or booking is seen), and a calendar that goes stale between the
read and the save conflicts, is retried and cannot overbook."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from application.bookings import Bookings
from application.store import EventStore
from domain.booking import Booking
from domain.booking_rules import resolve_period
from domain.calendar import ListingCalendar
from domain.errors import NotFoundError, RuleViolation, UnavailableError
from infrastructure.eventstore import build_event_store
from tests.builders import NOW, World, make_world, place_night
from tests.integration.shared_stores import pg_settings, two_workers

pytestmark = pytest.mark.postgres
FEES = {"service_fee_bp": 1200, "commission_bp": 300}
SMALL_POOL = 2  # connections, and as many in overflow


@pytest.fixture
def stores(pg_url: str, tmp_path: Any) -> Iterator[tuple[EventStore, EventStore]]:
    """Worker A's and worker B's stores (caches on, as `build_event_store` makes them)."""
    yield from two_workers(pg_settings(pg_url, tmp_path, SMALL_POOL))


def _warm(world: World, b: EventStore) -> tuple[uuid.UUID, Bookings]:
    """An active listing made by worker A, booked once through worker B (cached there)."""
    listing_id = world.active_listing()
    b_bookings = Bookings(b, **FEES)
    place_night(b_bookings, listing_id, date(2026, 7, 1))
    place_night(b_bookings, listing_id, date(2026, 7, 2))  # the second load was a cache hit
    assert b.aggregate_cache is not None and listing_id in b.aggregate_cache._entries
    assert b.aggregate_cache.hits >= 2
    return listing_id, b_bookings


def test_a_listing_deactivated_by_another_worker_is_not_booked_from_the_cache(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    world = make_world(a)
    listing_id, b_bookings = _warm(world, b)

    world.listings.deactivate(world.owner, listing_id, NOW)

    with pytest.raises(RuleViolation) as refused:
        place_night(b_bookings, listing_id, date(2026, 7, 3))
    assert refused.value.code == "listing_not_active"
    world.listings.activate(world.owner, listing_id, NOW)
    place_night(b_bookings, listing_id, date(2026, 7, 3))  # and reactivation is seen as well


def test_a_price_changed_by_another_worker_is_the_price_quoted(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    world = make_world(a)
    listing_id, b_bookings = _warm(world, b)
    night = date(2026, 7, 10)
    before = world.listings.quote(
        listing_id, start="2026-07-10", end="2026-07-11", quantity=1, guests=1, at=NOW
    )

    world.listings.set_price(world.owner, listing_id, night, 98_765, NOW)

    expected = world.listings.quote(
        listing_id, start="2026-07-10", end="2026-07-11", quantity=1, guests=1, at=NOW
    )
    assert expected["quote"] != before["quote"]
    booked = b.load(place_night(b_bookings, listing_id, night), "booking")
    assert isinstance(booked, Booking)
    assert booked.quote == expected["quote"]


def test_a_night_booked_through_another_worker_is_unavailable_here(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    world = make_world(a)
    listing_id, b_bookings = _warm(world, b)
    place_night(world.bookings, listing_id, date(2026, 7, 5))

    with pytest.raises(UnavailableError):
        place_night(b_bookings, listing_id, date(2026, 7, 5))


def test_a_calendar_gone_stale_before_the_save_conflicts_and_is_retried(
    stores: tuple[EventStore, EventStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """B takes the calendar from its cache (no read); before B saves, A books the same
    night (the only unit). B's save is rejected in its transaction, B retries with a fresh
    read and is refused: one booking of the night."""
    a, b = stores
    world = make_world(a)
    listing_id, b_bookings = _warm(world, b)
    night = date(2026, 7, 7)
    reads = 0
    real_read = b.recorder.select_streams  # type: ignore[attr-defined]
    real_cached = b.load_cached

    def read(*args: Any) -> Any:
        nonlocal reads
        reads += 1
        return real_read(*args)

    def cached_then_a_books(*args: Any) -> Any:
        found = real_cached(*args)
        assert found is not None  # warm: B acts without reading
        place_night(world.bookings, listing_id, night)  # between B's load and its save
        return found

    monkeypatch.setattr(b.recorder, "select_streams", read)
    monkeypatch.setattr(b, "load_cached", cached_then_a_books)
    with pytest.raises(UnavailableError):
        place_night(b_bookings, listing_id, night)
    assert reads == 1  # the conflict made B read

    listing = a.load(listing_id, "listing")
    period = resolve_period(listing, night.isoformat(), (night + timedelta(days=1)).isoformat())
    calendar = a.repository.get(ListingCalendar.create_id(listing_id))  # from the database
    assert calendar.used(period.keys[0], NOW) == 1


def test_one_query_loads_equal_the_librarys_past_snapshots_with_the_cache_off(
    pg_url: str, tmp_path: Any
) -> None:
    store = build_event_store(pg_settings(pg_url, tmp_path, SMALL_POOL, aggregate_cache_size=0))
    try:
        assert store.aggregate_cache is None
        world = make_world(store)
        listing_id = world.active_listing()
        world.listings.set_price(world.owner, listing_id, date(2026, 9, 1), 5_000, NOW)
        for i in range(55):  # the calendar is snapshotted every 50 events
            place_night(world.bookings, listing_id, date(2026, 7, 1) + timedelta(days=i))
        cal_id = ListingCalendar.create_id(listing_id)
        assert list(store.snapshots.get(cal_id)) if store.snapshots else False
        listing, calendar = store.load_all((listing_id, "listing"), (cal_id, "calendar"))
        assert vars(listing) == vars(store.repository.get(listing_id))
        assert vars(calendar) == vars(store.repository.get(cal_id))
        with pytest.raises(NotFoundError):
            store.load_all((listing_id, "listing"), (uuid.uuid4(), "calendar"))
    finally:
        store.close()
