"""Check-in and check-out endpoints: each side of a booking records its arrival and departure
with an optional condition report."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Response

from interfaces.http.booking_schemas import BookingPublic
from interfaces.http.deps import CommandDep
from interfaces.http.etag import set_etag
from interfaces.http.positions import set_position
from interfaces.http.schemas_common import problem_responses
from interfaces.http.stay_schemas import StayEventIn

router = APIRouter(tags=["bookings"], responses=problem_responses(401, 403, 404, 409, 422))

StayBody = Annotated[StayEventIn | None, Body()]


def _respond(
    command: CommandDep, response: Response, booking_id: UUID, position: int
) -> BookingPublic:
    booking = command.container.bookings.get(booking_id, viewer=command.actor)
    set_position(response, position)
    set_etag(response, booking.version)
    return BookingPublic.of(booking)


@router.post("/bookings/{booking_id}/check-in", response_model=BookingPublic)
def check_in(
    booking_id: UUID, command: CommandDep, response: Response, body: StayBody = None
) -> BookingPublic:
    """The renter or the owner checks in, with an optional condition report
    (`{report: {items: [{name, status: ok|damaged|missing, note, photo_ids}]}}`; photos must
    be media the caller uploaded). Once per side (409 `already_check_in`), from the start
    minus the listing's `check_in_grace_hours` until the end (422 `check_in_not_open` /
    `check_in_closed`); the first check-in of a confirmed booking moves it to
    `in_progress`. 404 for anyone but the booking's renter and owner (403 for admins)."""
    with command.context():
        position = command.container.stays.check_in(
            command.actor, booking_id, body.report_items() if body else None, command.now
        )
    return _respond(command, response, booking_id, position)


@router.post("/bookings/{booking_id}/check-out", response_model=BookingPublic)
def check_out(
    booking_id: UUID, command: CommandDep, response: Response, body: StayBody = None
) -> BookingPublic:
    """The renter or the owner checks out, with an optional condition report (as for
    check-in). Once per side (409 `already_check_out`), from the start until the end plus the
    listing's `check_out_grace_hours` (422 `check_out_not_open` / `check_out_closed`); the
    first check-out of a stay under way moves it to `awaiting_return_inspection` and opens
    the 48-hour inspection window (and the window for damage claims) from that instant."""
    with command.context():
        position = command.container.stays.check_out(
            command.actor, booking_id, body.report_items() if body else None, command.now
        )
    return _respond(command, response, booking_id, position)
