"""Booking endpoints: place, approve/decline, cancel, read."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from interfaces.http.booking_json import booking_response
from interfaces.http.booking_schemas import BookingCreate, BookingPublic, RoleQuery
from interfaces.http.deps import CommandDep
from interfaces.http.etag import set_etag
from interfaces.http.listing_schemas import ReasonIn
from interfaces.http.offload import in_thread
from interfaces.http.pagination import PageParamsDep
from interfaces.http.positions import min_position, set_position
from interfaces.http.schemas_common import Page
from projections.bookings import list_bookings

router = APIRouter(tags=["bookings"])


def _respond(
    command: CommandDep, response: Response, booking_id: UUID, position: int, status_code: int = 200
) -> Response:
    # Read only: the answer is built from what the command saved, not from a copy of it.
    booking = command.container.bookings.get(booking_id, viewer=command.actor, read_only=True)
    set_position(response, position)
    set_etag(response, booking.version)
    return booking_response(response, booking, status_code)


@router.post("/bookings", status_code=status.HTTP_201_CREATED, response_model=BookingPublic)
@in_thread  # validated on the event loop: one thread-pool hop, not two
def place_booking(body: BookingCreate, command: CommandDep, response: Response) -> Response:
    """Holds the units and creates the booking: `pending_payment` for instant-book
    listings (15 minutes to pay), `pending_owner_approval` for request-to-book (24 hours
    for the owner). 409 `unavailable` when the units are taken; 422 for rule violations.
    Send an `Idempotency-Key` so a retried request never books twice."""
    with command.context():
        booking_id, position = command.container.bookings.place(
            command.actor,
            body.listing_id,
            start=body.start,
            end=body.end,
            quantity=body.quantity,
            guests=body.guests,
            message=body.message,
            at=command.now,
            coupon_code=body.coupon_code,
        )
    response.headers["Location"] = f"/api/v1/bookings/{booking_id}"
    return _respond(command, response, booking_id, position, status.HTTP_201_CREATED)


@router.post("/bookings/{booking_id}/approve", response_model=BookingPublic)
def approve_booking(booking_id: UUID, command: CommandDep, response: Response) -> Response:
    """The owner accepts a request; the renter then has 15 minutes to pay."""
    with command.context():
        position = command.container.bookings.approve(command.actor, booking_id, command.now)
    return _respond(command, response, booking_id, position)


@router.post("/bookings/{booking_id}/decline", response_model=BookingPublic)
def decline_booking(
    booking_id: UUID, body: ReasonIn, command: CommandDep, response: Response
) -> Response:
    """The owner refuses a request; the units are released."""
    with command.context():
        position = command.container.bookings.decline(
            command.actor, booking_id, body.reason, command.now
        )
    return _respond(command, response, booking_id, position)


@router.post("/bookings/{booking_id}/cancel", response_model=BookingPublic)
def cancel_booking(
    booking_id: UUID, body: ReasonIn, command: CommandDep, response: Response
) -> Response:
    """Cancels (renter, owner or admin). A paid booking records the refund its policy
    snapshot gives (`refund_due`); the units are released."""
    with command.context():
        position = command.container.bookings.cancel(
            command.actor, booking_id, body.reason, command.now
        )
    return _respond(command, response, booking_id, position)


@router.get("/bookings/{booking_id}", response_model=BookingPublic)
def get_booking(booking_id: UUID, command: CommandDep, response: Response) -> Response:
    """A booking, for its renter, its owner and admins (404 for anyone else)."""
    booking = command.container.bookings.get(booking_id, viewer=command.actor)
    set_etag(response, booking.version)
    return booking_response(response, booking)


@router.get(
    "/me/bookings",
    response_model=Page[dict[str, Any]],
    dependencies=[Depends(min_position("bookings"))],
)
def my_bookings(
    command: CommandDep,
    page: PageParamsDep,
    role: RoleQuery = Query("renter", description="Bookings I made, or of my listings"),
    status_filter: str | None = Query(None, alias="status", max_length=40, pattern=r"^[a-z_]*$"),
) -> Page[dict[str, Any]]:
    """The caller's bookings as renter or owner, newest first."""
    container = command.container
    with container.views.connect() as conn:
        rows, next_cursor = list_bookings(
            conn,
            container.runner.tables("bookings"),
            command.actor.id,
            role,
            status_filter,
            page.limit,
            page.cursor,
        )
    return Page[dict[str, Any]](data=rows, next_cursor=next_cursor)
