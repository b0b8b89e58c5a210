"""Bookings back from their stay, ready to be reviewed, in a `World`."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.context import Actor
from domain.booking import Booking
from tests.builders import NOW, World


def returned_booking(
    world: World, listing_id: UUID, *, start: str = "2026-06-10", end: str = "2026-06-12"
) -> tuple[UUID, datetime]:
    """A booking paid, started and ended (awaiting return inspection) on its end instant;
    returns its id and that instant (when the review window opens)."""
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start=start, end=end, quantity=1, guests=1, at=NOW
    )
    booking: Booking = world.bookings.get(booking_id)
    system = Actor.system().id
    booking.confirm(system, NOW)
    booking.begin(system, booking.start_at)
    ended_at = booking.deadline("end_at")
    assert ended_at is not None
    booking.finish(system, ended_at)
    world.store.record(booking)
    return booking_id, ended_at
