"""A placement that lost a race in its own worker answers from the winner's committed state
(`EventStore.latest`) only when that state refuses it; otherwise it loads again and acts.
Shared reads wait for a save of their streams under way (`select_streams`' `before`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from application.bookings import Bookings
from application.store import EventStore
from domain.calendar import ListingCalendar
from domain.errors import ConflictError, UnavailableError
from infrastructure.eventstore import build_event_store
from tests.builders import NOW, make_world
from tests.integration.test_hot_calendar_workers import (
    FEES,
    FIRST,
    counting_saves,
    place,
    winner_books_after_first_load,
)
from tests.money_stores import STORES, store_settings


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    store = build_event_store(store_settings(request.param, tmp_path, request))
    assert store.aggregate_cache is not None
    try:
        yield store
    finally:
        store.close()


def test_a_racer_whose_night_the_winner_left_free_loads_again_and_wins(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The winner saves another night between the racer's read and its act: the committed
    state does not refuse the racer, so it reads again and books on top of it."""
    world = make_world(store)
    listing_id = world.active_listing()
    racer, winner = Bookings(store, **FEES), Bookings(store, **FEES)
    place(winner, listing_id, 5)  # the listing and calendar are cached now
    saves = counting_saves(store, monkeypatch)
    loads = winner_books_after_first_load(store, monkeypatch, winner, listing_id, 1)
    booking_id, _ = place(racer, listing_id, 0)
    assert len(loads) == 3  # the racer's, the winner's, and the racer's again
    assert saves == [2, 2]
    calendar: ListingCalendar = store.repository.get(ListingCalendar.create_id(listing_id))
    assert len(calendar.allocations) == 3
    assert calendar.allocation(booking_id) is not None


def test_placing_a_booking_id_again_names_the_duplicate_not_the_taken_night(
    store: EventStore,
) -> None:
    world = make_world(store)
    listing_id = world.active_listing()
    bookings = Bookings(store, **FEES)
    booking_id, renter = place(bookings, listing_id, 0)  # the only unit of night 0
    with pytest.raises(ConflictError) as refused:
        bookings.place(
            renter,
            listing_id,
            start=FIRST.isoformat(),
            end=(FIRST + timedelta(days=1)).isoformat(),
            quantity=1,
            guests=1,
            at=NOW,
            booking_id=booking_id,
        )
    assert not isinstance(refused.value, UnavailableError)
    assert refused.value.code == "duplicate_allocation"
    with pytest.raises(UnavailableError):  # another booking id: the night is taken
        place(bookings, listing_id, 0)


@pytest.mark.parametrize("store", [STORES[1]], indirect=True)  # PostgreSQL's one-query read
def test_a_shared_read_runs_its_before_hook_first_and_reads_what_it_saved(
    store: EventStore,
) -> None:
    select_streams = store.recorder.select_streams  # type: ignore[attr-defined]
    world = make_world(store)
    listing_id = world.active_listing()
    bookings = Bookings(store, **FEES)
    place(bookings, listing_id, 0)
    calendar_id = ListingCalendar.create_id(listing_id)
    version = store.repository.get(calendar_id).version
    hooks: list[uuid.UUID] = []

    def a_save_under_way_ends() -> None:
        hooks.append(place(bookings, listing_id, 1)[0])

    streams = select_streams([(calendar_id, version)], None, a_save_under_way_ends)
    _, events = streams[calendar_id]
    assert len(hooks) == 1
    assert [e.originator_version for e in events] == [version + 1]


def test_a_racer_is_refused_by_the_committed_state_its_worker_holds(
    store: EventStore,
) -> None:
    """`latest` hands the cached committed state when it is later than what was read."""
    world = make_world(store)
    listing_id = world.active_listing()
    bookings = Bookings(store, **FEES)
    place(bookings, listing_id, 3)
    calendar_id = ListingCalendar.create_id(listing_id)
    read = store.load_all((calendar_id, "calendar"), shared=True)[0]
    assert store.latest(read) is read  # nothing later
    place(bookings, listing_id, 0)
    later = store.latest(read)
    assert later.version == read.version + 1
    assert store.is_current(later) and not store.is_current(read)
    assert len(later.allocations) == len(read.allocations) + 1
