"""Shared read-only instances in the aggregate cache (application/aggregate_cache.py):
callers that only look share one decoded instance per version; whoever acts gets a copy
of its own, so nothing one caller changes is ever seen by another."""

from __future__ import annotations

from datetime import date

from application.store import EventStore
from domain.calendar import ListingCalendar
from domain.listing import Listing
from tests.builders import NOW, make_world, place_night


def cached_store() -> EventStore:
    return EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, cache_size=100)


def test_readers_of_one_version_share_one_instance() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    cal_id = ListingCalendar.create_id(listing_id)
    store.load(cal_id, "calendar")  # cached
    first, second = (store.load_all((cal_id, "calendar"), shared=True)[0] for _ in range(2))
    assert first is second
    assert store.load(cal_id, "calendar") is not first  # an ordinary load is a copy


def test_an_owned_copy_changes_nothing_another_reader_sees() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    cal_id = ListingCalendar.create_id(listing_id)
    store.load(cal_id, "calendar")
    reader: ListingCalendar = store.load_all((cal_id, "calendar"), shared=True)[0]
    actor: ListingCalendar = store.own(store.load_all((cal_id, "calendar"), shared=True)[0])
    assert actor is not reader
    actor.add_block(world.admin.id, [date(2026, 8, 1).toordinal()], "repairs", NOW)
    assert not reader.blocks and actor.blocks
    assert not store.load_all((cal_id, "calendar"), shared=True)[0].blocks


def test_the_only_reader_owns_the_instance_itself_and_it_is_shared_no_more() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    store.load(listing_id, "listing")
    only: Listing = store.load_all((listing_id, "listing"), shared=True)[0]
    assert store.own(only) is only
    only.spec["title"] = "scribbled on, never saved"
    later: Listing = store.load_all((listing_id, "listing"), shared=True)[0]
    assert later is not only and later.spec["title"] != "scribbled on, never saved"


def test_a_shared_instance_is_never_a_later_version() -> None:
    store = cached_store()
    world = make_world(store)
    listing_id = world.active_listing()
    cal_id = ListingCalendar.create_id(listing_id)
    before: ListingCalendar = store.load_all((cal_id, "calendar"), shared=True)[0]
    place_night(world.bookings, listing_id, date(2026, 7, 1))
    after: ListingCalendar = store.load_all((cal_id, "calendar"), shared=True)[0]
    assert after.version == before.version + 1 and len(after.allocations) == 1
    assert not before.allocations  # the earlier readers' instance did not move
