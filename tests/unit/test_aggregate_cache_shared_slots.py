"""The aggregate cache's shared slots (application/aggregate_cache.py): a placement leaves its
listing decoded and shared (it only reads it), and the slots stay within their count and
their estimated bytes whatever is shared, owned or discarded."""

from __future__ import annotations

import pickle
from datetime import date
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from application.aggregate_cache import DECODED_PER_PICKLED, AggregateCache
from application.store import EventStore
from domain.calendar import ListingCalendar
from domain.listing import Listing
from tests.builders import NOW, make_world, place_night


def cached_store() -> EventStore:
    return EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, cache_size=100)


def test_placements_read_one_decoded_listing_and_leave_it_shared() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    place_night(world.bookings, listing_id, date(2026, 7, 1))
    first: Listing = store.load_all((listing_id, "listing"), shared=True)[0]
    place_night(world.bookings, listing_id, date(2026, 7, 2))
    place_night(world.bookings, listing_id, date(2026, 7, 3))
    assert store.load_all((listing_id, "listing"), shared=True)[0] is first
    calendar: ListingCalendar = store.load(ListingCalendar.create_id(listing_id), "calendar")
    assert len(calendar.allocations) == 3  # the calendar, which they change, moved on


def test_a_listing_changed_after_placements_is_shared_at_its_new_version() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    place_night(world.bookings, listing_id, date(2026, 7, 1))
    before: Listing = store.load_all((listing_id, "listing"), shared=True)[0]
    world.listings.deactivate(world.owner, listing_id, NOW)
    after: Listing = store.load_all((listing_id, "listing"), shared=True)[0]
    assert after is not before and after.version == before.version + 1
    assert after.status != before.status == "active"


class _Thing:
    """A stand-in aggregate: an id, a version and a payload of some size."""

    def __init__(self, aggregate_id: UUID, version: int, size: int) -> None:
        self.id, self.version, self.payload = aggregate_id, version, "x" * size
        self.pending_events: list[object] = []


IDS = [uuid4() for _ in range(6)]
operations = st.lists(
    st.tuples(
        st.sampled_from(["share", "shared", "own", "discard"]),
        st.sampled_from(IDS),
        st.integers(1, 5),  # version
        st.integers(0, 3000),  # payload size
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(ops=operations, slots=st.integers(1, 4), budget=st.integers(0, 60_000))
def test_shared_slots_stay_within_their_count_and_bytes(
    ops: list[tuple[str, UUID, int, int]], slots: int, budget: int
) -> None:
    cache = AggregateCache(100, (_Thing,), shared_slots=slots, shared_bytes=budget)
    handed: dict[UUID, _Thing] = {}
    for op, aggregate_id, version, size in ops:
        thing = _Thing(aggregate_id, version, size)
        if op == "share":
            cache.put(thing)
            cache.share(thing)
            handed[aggregate_id] = thing
        elif op == "shared":
            cache.put(thing)
            entry = cache.get(aggregate_id)
            assert entry is not None
            got = cache.shared(aggregate_id, entry)
            assert got.version == entry.version
            handed[aggregate_id] = got
        elif op == "own" and aggregate_id in handed:
            cache.own(handed.pop(aggregate_id))
        elif op == "discard":
            cache.discard(aggregate_id)
        kept = list(cache._shared.values())
        assert len(kept) <= slots
        assert cache.shared_bytes == sum(slot.size for slot in kept)
        assert cache.shared_bytes <= budget or len(kept) == 1  # the newest stays
    cache.clear()
    assert cache.shared_bytes == 0 and not cache._shared


def test_a_shared_instance_is_counted_from_its_pickled_size() -> None:
    cache = AggregateCache(10, (_Thing,))
    thing = _Thing(uuid4(), 1, 5000)
    cache.put(thing)
    entry = cache.get(thing.id)
    assert entry is not None
    cache.shared(thing.id, entry)
    assert cache.shared_bytes == len(pickle.dumps(thing, -1)) * DECODED_PER_PICKLED
