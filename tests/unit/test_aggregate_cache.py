"""The per-process aggregate cache (application/aggregate_cache.py) on the in-memory store:
what may be cached, that callers get copies of their own, that only committed states are
kept, and that every load still reads what was saved after the cached version."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from eventsourcing.persistence import IntegrityError

from application.aggregate_cache import AggregateCache
from application.store import EventStore
from domain.booking import Booking
from domain.calendar import ListingCalendar
from domain.listing import Listing
from domain.user import EmailIndex, User
from tests.builders import NOW, make_world, place_night


def cached_store(size: int = 100) -> EventStore:
    return EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, cache_size=size)


@pytest.mark.parametrize("kind", [User, EmailIndex, Booking])
def test_aggregates_with_personal_data_may_not_be_cached(kind: type) -> None:
    with pytest.raises(ValueError, match="personal data"):
        AggregateCache(10, (Listing, kind))


def test_the_store_caches_only_listings_and_calendars() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-07-01", end="2026-07-03", quantity=1, guests=1, at=NOW
    )
    store.load(world.owner.id, "user")
    store.load(booking_id, "booking")
    cache = store.aggregate_cache
    assert cache is not None
    assert set(cache._entries) == {listing_id, ListingCalendar.create_id(listing_id)}


def test_callers_get_copies_and_a_later_load_reads_the_new_events() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    first: Listing = store.load(listing_id, "listing")
    first.spec["title"] = "scribbled on, never saved"
    again: Listing = store.load(listing_id, "listing")
    assert again.spec["title"] != first.spec["title"]
    assert again is not first

    world.listings.set_price(world.owner, listing_id, date(2026, 8, 1), 12_345, NOW)
    moved: Listing = store.load(listing_id, "listing")
    assert moved.version == again.version + 1
    assert moved.pricing_rules(service_fee_bp=0, commission_bp=0).date_overrides


def test_a_lost_save_leaves_the_cache_with_what_was_committed() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    cal_id = ListingCalendar.create_id(listing_id)
    stale: ListingCalendar = store.load(cal_id, "calendar")
    world.bookings.place(
        world.renter, listing_id, start="2026-07-01", end="2026-07-02", quantity=1, guests=1, at=NOW
    )
    stale.add_block(uuid.uuid4(), [1], "mine", NOW)
    with pytest.raises(IntegrityError):
        store.record(stale)
    current: ListingCalendar = store.load(cal_id, "calendar")
    assert current.version == stale.version  # the booking's hold, not the lost block
    assert not current.blocks and len(current.allocations) == 1


def test_the_least_recently_used_entries_go_first() -> None:
    store = cached_store(size=3)
    world = make_world(store)
    first, second = world.active_listing(), world.active_listing()
    store.load(first, "listing")
    store.load(second, "listing")
    store.load(ListingCalendar.create_id(second), "calendar")
    store.load(first, "listing")  # used again: now the newest
    store.load(ListingCalendar.create_id(first), "calendar")
    cache = store.aggregate_cache
    assert cache is not None and len(cache) == 3
    assert second not in cache._entries and first in cache._entries


def test_many_placements_through_the_cache_never_overbook() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    placed = 0
    for i in range(60):  # past a calendar snapshot (every 50 events)
        night = date(2026, 7, 1) + timedelta(days=i % 20)
        try:
            place_night(world.bookings, listing_id, night)
            placed += 1
        except Exception as refused:
            assert getattr(refused, "code", None) == "unavailable"
    assert placed == 20
    cached: ListingCalendar = store.load(ListingCalendar.create_id(listing_id), "calendar")
    replayed = store.repository.get(ListingCalendar.create_id(listing_id))
    assert cached.allocations == replayed.allocations and cached.version == replayed.version


def test_the_entries_bytes_are_bounded_too() -> None:
    store = cached_store()
    world = make_world(store)
    first, second = world.active_listing(), world.active_listing()
    cache = store.aggregate_cache
    assert cache is not None
    cache.clear()
    store.load(first, "listing")
    one = cache.bytes
    assert one > 0
    cache.max_bytes = one + one // 2  # room for one listing, not two
    store.load(second, "listing")
    assert list(cache._entries) == [second] and cache.bytes <= cache.max_bytes
    cache.discard(second)
    assert cache.bytes == 0 and len(cache) == 0
