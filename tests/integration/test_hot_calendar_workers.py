"""Placements on one hot calendar, from one worker's threads and from two workers' stores
on one database (SQLite, PostgreSQL), each store with its aggregate cache and its saves
under way (application/saves_in_flight.py).

Both directions, whatever a worker's cache holds: a placement is refused exactly when the
night is taken in the database (a stale cache lets nothing through, and never refuses what
another worker's cancellation freed), and a loser inside one worker learns that it lost
from the winner's committed state, without building and saving a doomed booking."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from application.bookings import Bookings
from application.context import Actor
from application.store import EventStore
from domain.calendar import ListingCalendar
from domain.errors import UnavailableError
from tests.builders import NOW, World, make_world, place_night
from tests.integration.shared_stores import two_workers
from tests.money_stores import STORES, store_settings

FEES = {"service_fee_bp": 1200, "commission_bp": 300}
FIRST = date(2026, 7, 1)
NIGHTS = 3


@pytest.fixture(params=STORES)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[EventStore, ...]]:
    """Worker A's and worker B's stores on one database."""
    yield from two_workers(store_settings(request.param, tmp_path, request))


def place(bookings: Bookings, listing_id: uuid.UUID, night: int) -> tuple[uuid.UUID, Actor]:
    renter = Actor(uuid.uuid4(), "user")
    return place_night(bookings, listing_id, FIRST + timedelta(days=night), renter), renter


def counting_saves(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    saves: list[int] = []
    real = store.record

    def record(*aggregates: Any, **kwargs: Any) -> int:
        saves.append(sum(a is not None for a in aggregates))
        return real(*aggregates, **kwargs)

    monkeypatch.setattr(store, "record", record)
    return saves


def winner_books_after_first_load(
    store: EventStore,
    monkeypatch: pytest.MonkeyPatch,
    winner: Bookings,
    listing_id: uuid.UUID,
    night: int,
) -> list[int]:
    """Counts loads (`store.load_all` calls, and `store.load_cached` calls that answered:
    one item each); right after the first one, the winner books `night`, as a rival does
    between a racer's load and its act."""
    loads: list[int] = []
    real, real_cached = store.load_all, store.load_cached

    def load_all(*wanted: Any, **kwargs: Any) -> list[Any]:
        loads.append(1)
        found = real(*wanted, **kwargs)
        if len(loads) == 1:
            place(winner, listing_id, night)
        return found

    def load_cached(*ids: Any) -> list[Any] | None:
        found = real_cached(*ids)
        if found is not None:
            loads.append(1)
            if len(loads) == 1:
                place(winner, listing_id, night)
        return found

    monkeypatch.setattr(store, "load_all", load_all)
    monkeypatch.setattr(store, "load_cached", load_cached)
    return loads


def test_a_loser_in_the_same_worker_is_refused_without_saving(
    stores: tuple[EventStore, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser reads the calendar; before it acts, the winner saves the same night in
    this worker. The loser is refused from the winner's committed state, which this worker
    holds, without reading again: one save."""
    a, _ = stores
    world = make_world(a)
    listing_id = world.active_listing()
    loser, winner = Bookings(a, **FEES), Bookings(a, **FEES)
    place(winner, listing_id, NIGHTS)  # the listing and calendar are cached now
    saves = counting_saves(a, monkeypatch)
    loads = winner_books_after_first_load(a, monkeypatch, winner, listing_id, 0)
    with pytest.raises(UnavailableError):
        place(loser, listing_id, 0)
    assert len(loads) == 2  # the loser's and the winner's
    assert saves == [2]  # the winner's booking and calendar; nothing from the loser
    calendar: ListingCalendar = a.load(ListingCalendar.create_id(listing_id), "calendar")
    assert len(calendar.allocations) == 2


def test_racing_threads_in_one_worker_and_one_in_another_give_one_winner(
    stores: tuple[EventStore, ...],
) -> None:
    a, b = stores
    world = make_world(a)
    listing_id = world.active_listing()
    workers = [Bookings(a, **FEES)] * 7 + [Bookings(b, **FEES)]
    place(workers[0], listing_id, NIGHTS)
    place(workers[-1], listing_id, NIGHTS + 1)  # both caches hold the calendar
    barrier = threading.Barrier(len(workers))
    outcomes: list[str] = []

    def race(bookings: Bookings) -> None:
        barrier.wait()
        try:
            place(bookings, listing_id, 0)
            outcomes.append("won")
        except UnavailableError:
            outcomes.append("lost")

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost"] * (len(workers) - 1) + ["won"]


class HotCalendar(RuleBasedStateMachine):
    """Two workers place, cancel and race for a few nights of one listing; the model is
    the set of taken nights."""

    def __init__(self, world: World, workers: tuple[Bookings, Bookings]) -> None:
        super().__init__()
        self.workers = workers
        self.listing_id = world.active_listing()
        self.taken: dict[int, tuple[uuid.UUID, Actor, int]] = {}

    def _place(self, w: int, night: int, *, between: Callable[[], None] | None = None) -> None:
        bookings = self.workers[w]
        store = bookings.store
        if between is not None:  # runs after this placement's first read, before its save
            real = store.load_all
            reads = 0

            def read_then(*wanted: Any, **kwargs: Any) -> list[Any]:
                nonlocal reads
                reads += 1
                found = real(*wanted, **kwargs)
                if reads == 1:
                    between()
                return found

            store.load_all = read_then  # type: ignore[method-assign]
        try:
            booking_id, renter = place(bookings, self.listing_id, night)
        except UnavailableError:
            assert night in self.taken, f"night {night} is free, yet worker {w} refused it"
            return
        finally:
            if between is not None:
                del store.load_all
        assert night not in self.taken, f"night {night} was booked twice (worker {w})"
        self.taken[night] = (booking_id, renter, w)

    @rule(w=st.sampled_from([0, 1]), night=st.integers(0, NIGHTS - 1))
    def book(self, w: int, night: int) -> None:
        self._place(w, night)

    @rule(w=st.sampled_from([0, 1]), night=st.integers(0, NIGHTS - 1))
    def book_while_the_other_worker_books_it(self, w: int, night: int) -> None:
        """Worker w reads, then the other worker books the same night, then w saves."""
        self._place(w, night, between=lambda: self._place(1 - w, night))

    @rule(w=st.sampled_from([0, 1]), night=st.integers(0, NIGHTS - 1))
    def cancel(self, w: int, night: int) -> None:
        if night in self.taken:
            booking_id, renter, _ = self.taken.pop(night)
            self.workers[w].cancel(renter, booking_id, "plans changed", NOW)

    @rule(w=st.sampled_from([0, 1]))
    def read(self, w: int) -> None:
        """The worker's cache takes the calendar as it is now (to go stale later)."""
        self.workers[w].calendar(self.listing_id)


def test_a_placement_is_refused_exactly_when_its_night_is_taken(
    stores: tuple[EventStore, ...],
) -> None:
    a, b = stores
    world = make_world(a)
    workers = (Bookings(a, **FEES), Bookings(b, **FEES))
    run_state_machine_as_test(
        lambda: HotCalendar(world, workers),
        settings=settings(max_examples=15, stateful_step_count=12, deadline=None),
    )
