"""Placements on one listing take turns in the process: a racer that lost the night learns
it from its load (409 `unavailable`) without a save of its own that would fail."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta
from typing import Any

from application.context import Actor
from domain.errors import UnavailableError
from tests.builders import NOW, make_world

RACERS = 12
NIGHT = date(2026, 7, 1)


def _race(world: Any, listing_id: uuid.UUID) -> list[object]:
    barrier = threading.Barrier(RACERS)
    outcomes: list[object] = [None] * RACERS

    def racer(i: int) -> None:
        start = NIGHT + timedelta(days=i % 3)  # every period covers the third night
        barrier.wait()
        try:
            outcomes[i] = world.bookings.place(
                Actor(uuid.uuid4(), "user"),
                listing_id,
                start=start.isoformat(),
                end=(start + timedelta(days=3)).isoformat(),
                quantity=1,
                guests=1,
                at=NOW,
            )[0]
        except Exception as e:
            outcomes[i] = e

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_racers_for_one_night_save_once_and_the_losers_get_unavailable() -> None:
    world = make_world()
    listing_id = world.active_listing()
    saves = []
    record = world.store.record

    def counted(*aggregates: Any, **kwargs: Any) -> int:
        saves.append(aggregates)
        return record(*aggregates, **kwargs)

    world.store.record = counted  # type: ignore[method-assign]
    outcomes = _race(world, listing_id)

    assert len([o for o in outcomes if isinstance(o, uuid.UUID)]) == 1
    assert len([o for o in outcomes if isinstance(o, UnavailableError)]) == RACERS - 1
    assert len(saves) == 1  # without turns every racer saved and all but one conflicted
    assert len(world.bookings.turns) == 0


def test_a_placement_whose_turn_is_late_still_books_by_optimistic_concurrency() -> None:
    world = make_world()
    listing_id = world.active_listing()
    world.bookings.turns.timeout = 0.05
    held, release = threading.Event(), threading.Event()
    calendar_id = world.bookings.calendar(listing_id).id

    def holder() -> None:
        with world.bookings.turns.take(calendar_id):
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(5)
    try:
        booking_id, _ = world.bookings.place(
            world.renter,
            listing_id,
            start="2026-07-01",
            end="2026-07-02",
            quantity=1,
            guests=1,
            at=NOW,
        )
    finally:
        release.set()
        t.join()
    assert world.bookings.get(booking_id).listing_id == listing_id
