"""Check-in and check-out use cases: each side records its arrival and departure, with a
condition report, on the Booking itself.

Why on the Booking rather than a per-booking aggregate of its own: the first check-in and the
first check-out move the booking's status (and the inspection deadline) in the same event
stream, so one save records the report and the move atomically and the deadlines view sees
both in order; a second aggregate would need a two-stream save and a second version to track.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.bookings import Bookings
from application.context import Actor
from application.ports import MediaCatalog
from application.retry import retry_on_conflict
from application.store import EventStore
from domain import stay
from domain.booking import Booking
from domain.errors import RuleViolation
from domain.listing import Listing


def check_media(media: MediaCatalog | None, owner_id: UUID, ids: list[UUID]) -> None:
    """Photos must be media the user uploaded; without a catalog wired, ids are taken as given."""
    if media is None or not ids:
        return
    missing = media.missing(owner_id, ids)
    if missing:
        raise RuleViolation(
            "unknown_media",
            f"{', '.join(str(m) for m in missing[:5])}: not among the photos you uploaded",
        )


class Stays:
    def __init__(
        self, store: EventStore, bookings: Bookings, media: MediaCatalog | None = None
    ) -> None:
        self.store = store
        self.bookings = bookings
        self.media = media

    def grace_hours(self, booking: Booking, end: str) -> int:
        """The listing's `check_in_grace_hours` or `check_out_grace_hours` (`end` is in or
        out); older listings have both, by upcasting (domain/listing_upcasts.py)."""
        listing = self.store.load(booking.listing_id, "listing")
        assert isinstance(listing, Listing)
        return int(listing.spec[f"check_{end}_grace_hours"])

    def check_in(
        self, actor: Actor, booking_id: UUID, items: list[Any] | None, at: datetime
    ) -> int:
        """The renter or the owner checks in, once, from the start minus the listing's grace
        hours until the end; the first check-in of a confirmed booking starts it."""
        return self._record(actor, booking_id, items, at, "in")

    def check_out(
        self, actor: Actor, booking_id: UUID, items: list[Any] | None, at: datetime
    ) -> int:
        """The renter or the owner checks out, once, from the start until the end plus the
        listing's check-out grace hours; the first check-out of a stay under way ends it and
        opens the return inspection window (48 h) from now."""
        return self._record(actor, booking_id, items, at, "out")

    def _record(
        self, actor: Actor, booking_id: UUID, items: list[Any] | None, at: datetime, end: str
    ) -> int:
        act = Booking.check_in if end == "in" else Booking.check_out

        def attempt() -> int:
            booking = self.bookings.get(booking_id)
            side = stay.side_of(
                actor.id,
                actor.role,
                renter_id=booking.renter_id,
                owner_id=booking.owner_id,
                booking_id=booking_id,
            )
            report = stay.validate_report(items)
            act(booking, actor.id, side, report, self.grace_hours(booking, end), at)
            check_media(self.media, actor.id, stay.report_photo_ids(report))
            return self.store.record(booking)

        return retry_on_conflict(attempt)
