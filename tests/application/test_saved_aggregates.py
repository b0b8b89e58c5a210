"""The saved-aggregates scope: loads inside it return copies of what it saved; a conflicting
save empties it so the retry reads what the winner saved; outside a scope nothing is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eventsourcing.persistence import IntegrityError

from application.context import SYSTEM_ACTOR
from application.saved_aggregates import answering_from_saves
from domain.booking import Booking
from tests.builders import NOW, make_world

LATER = NOW + timedelta(days=2)  # the unpaid hold is due to expire


def place(world, listing_id):  # type: ignore[no-untyped-def]
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-10", end="2026-06-11", quantity=1, guests=1,
        at=NOW,
    )  # fmt: skip
    return booking_id


def test_inside_a_scope_a_load_returns_a_copy_of_what_was_saved() -> None:
    w = make_world()
    listing_id = w.active_listing()
    with answering_from_saves():
        booking_id = place(w, listing_id)
        first, second = w.store.load(booking_id, "booking"), w.store.load(booking_id, "booking")
    assert isinstance(first, Booking) and first is not second
    assert first.version == second.version == w.store.repository.get(booking_id).version


def test_outside_a_scope_every_load_reads_the_store() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id = place(w, listing_id)
    calls: list[object] = []
    original = w.store.repository.get
    w.store.repository.get = (  # type: ignore[method-assign]
        lambda *a, **k: calls.append(a) or original(*a, **k)
    )
    w.store.load(booking_id, "booking")
    w.store.load(booking_id, "booking")
    assert len(calls) == 2


def test_a_conflicting_save_empties_the_scope_so_the_retry_reads_the_winner() -> None:
    w = make_world()
    listing_id = w.active_listing()
    with answering_from_saves():
        booking_id = place(w, listing_id)
        mine = w.store.load(booking_id, "booking")
        other = w.store.repository.get(booking_id)
        other.expire(SYSTEM_ACTOR, LATER)
        w.store.save(other)
        mine.expire(SYSTEM_ACTOR, LATER)
        with pytest.raises(IntegrityError):
            w.store.record(mine)
        fresh = w.store.load(booking_id, "booking")
    assert fresh.version == other.version
