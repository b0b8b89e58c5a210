"""The renter's pages: book, pay (the simulated gateway's card step on the embedded
default; Stripe's Payment Element in trips_checkout), trips, a trip with its live status,
and cancelling with the refund shown first.

Every page reads the booking through `bookings.get(viewer=...)`, the API's own check: a
trip that is not yours is 404, exactly as `GET /api/v1/bookings/{id}`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import command_context
from domain import booking as b
from domain.booking import Booking
from domain.errors import DomainError, NotFoundError
from infrastructure.simulated_gateway import SimulatedGateway
from interfaces.web.listing_view import (
    listing_page_context,
    listing_title,
    listing_zones,
    to_period_value,
)
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render
from interfaces.web.trip_disputes import disputes_context
from projections.bookings import list_bookings
from projections.payments_reader import PaymentsReader

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Statuses after which nothing changes by itself: the page stops asking.
FINAL = frozenset({b.SETTLED, b.REFUNDED})


@router.post("/trips", response_class=HTMLResponse)
def book(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """Places the booking (the API's `POST /bookings`), then opens the trip to pay."""
    try:
        listing_id = UUID(form.get("listing_id", ""))
    except ValueError:
        raise NotFoundError("listing_not_found", "no such listing") from None
    start, end, guests = form.get("start", ""), form.get("end", ""), form.get("guests", "1")
    actor = visitor.actor
    if actor is None:  # back to these dates once signed in
        back = f"/listings/{listing_id}?" + urlencode(
            {"start": start, "end": end, "guests": guests}
        )
        return RedirectResponse(f"/login?{urlencode({'next': back})}", status_code=303)
    listing = visitor.container.listings.get(listing_id, viewer=actor)
    tz = listing.spec["location"]["timezone"]
    error = ""
    if not start or not end:
        error = "Pick both dates."
    elif not guests.isdigit() or not 1 <= int(guests) <= 1000:
        error = "Guests must be a whole number from 1."
    if not error:
        try:
            with command_context(actor, request_id=visitor.request_id):
                booking_id, position = visitor.container.bookings.place(
                    actor,
                    listing_id,
                    start=to_period_value(start, tz),
                    end=to_period_value(end, tz),
                    quantity=1,
                    guests=int(guests),
                    message=form.get("message", "")[:2000],
                    at=visitor.now,
                )
            visitor.read_your_writes(position, "bookings")
            return RedirectResponse(f"/trips/{booking_id}", status_code=303)
        except DomainError as problem:
            error = problem.detail
    context = listing_page_context(visitor, listing_id, start=start, end=end, guests=guests)
    context["book_error"] = error
    return render(request, "listing.html", context, status_code=422)


@router.get("/trips", response_class=HTMLResponse)
def trips(request: Request, visitor: VisitorDep) -> Response:
    actor = visitor.require()
    container = visitor.container
    with container.views.connect() as conn:
        rows, _ = list_bookings(
            conn, container.runner.tables("bookings"), actor.id, "renter", None, 50, None
        )
    titles: dict[str, str] = {}
    for row in rows:
        lid = row["listing_id"]
        titles.setdefault(lid, listing_title(visitor, UUID(lid)))
    context = {"trips": rows, "titles": titles, "zones": listing_zones(visitor, rows)}
    return render(request, "trips.html", context)


def _payment(visitor: Visitor, booking_id: UUID) -> dict[str, Any] | None:
    container = visitor.container
    return PaymentsReader(container.views, container.runner.tables("payments")).of_booking(
        booking_id
    )


def trip_context(visitor: Visitor, booking: Booking) -> dict[str, Any]:
    return {
        "booking": booking,
        "title": listing_title(visitor, booking.listing_id),
        "payment": _payment(visitor, booking.id),
        "live": booking.status not in FINAL
        and not (booking.status == b.CANCELLED and not booking.refund_due),
        "is_renter": visitor.principal is not None
        and booking.renter_id == visitor.principal.user_id,
        "simulated": _simulated(visitor) is not None,
    }


@router.get("/trips/{booking_id}", response_class=HTMLResponse)
def trip(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    _, booking = visitor.booking(booking_id)
    context = trip_context(visitor, booking) | disputes_context(visitor, booking)
    return render(request, "trip.html", context)


@router.get("/trips/{booking_id}/status", response_class=HTMLResponse)
def trip_status(
    request: Request, booking_id: UUID, visitor: VisitorDep, after: int = 0
) -> Response:
    """The live status fragment, re-read on each event of the booking's SSE stream: `after`
    is the event's position, so the payment shown includes it."""
    _, booking = visitor.booking(booking_id)
    visitor.read_your_writes(max(after, 0), "payments", timeout=2.0)
    return render(request, "_live_status.html", trip_context(visitor, booking))


def _simulated(visitor: Visitor) -> SimulatedGateway | None:
    container = visitor.container
    gateway = container.gateway
    if container.settings.environment == "production" or not isinstance(gateway, SimulatedGateway):
        return None
    return gateway


@router.post("/trips/{booking_id}/pay", response_class=HTMLResponse)
def pay(request: Request, booking_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    """Creates the charge (the API's `POST /bookings/{id}/payment`), then the card step."""
    actor, _ = visitor.booking(booking_id)
    with command_context(actor, request_id=visitor.request_id):
        visitor.container.payments.start_payment(actor, booking_id, visitor.now)
    step = "card" if _simulated(visitor) is not None else "checkout"  # Stripe: trips_checkout
    return RedirectResponse(f"/trips/{booking_id}/{step}", status_code=303)


@router.get("/trips/{booking_id}/card", response_class=HTMLResponse)
def card_page(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    _, booking = visitor.booking(booking_id)
    if _simulated(visitor) is None:  # Stripe's Payment Element instead
        return RedirectResponse(f"/trips/{booking_id}/checkout", status_code=303)
    context = trip_context(visitor, booking) | {"errors": {}, "values": {"card": ""}}
    return render(request, "card.html", context)


DECLINED_CARD = "4000000000000002"


@router.post("/trips/{booking_id}/card", response_class=HTMLResponse)
def card(request: Request, booking_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    """The simulated card network (embedded default only): any valid-looking number goes
    through, 4000 0000 0000 0002 is declined — as the dev endpoints would settle it."""
    _, booking = visitor.booking(booking_id)
    gateway = _simulated(visitor)
    number = "".join(ch for ch in form.get("card", "") if ch.isdigit())
    context = trip_context(visitor, booking) | {"errors": {}, "values": {"card": number}}
    if gateway is None:
        raise NotFoundError("not_found", "the simulated card is not offered here")
    if booking.payment_id is None:
        return RedirectResponse(f"/trips/{booking_id}", status_code=303)
    if len(number) < 12 or len(number) > 19:
        context["errors"]["card"] = "Enter a card number (12 to 19 digits)."
        return render(request, "card.html", context, status_code=422)
    payments = visitor.container.payments
    with command_context(None, request_id=visitor.request_id):  # the processor acts
        payment = visitor.container.store.load(booking.payment_id, "payment")
        if payment.charge["intent_id"] is None:
            payments.job_handlers.create_charge(str(booking_id))
        if payment.deposit and payment.deposit_hold["intent_id"] is None:
            payments.job_handlers.authorize_deposit(str(booking_id))
        try:
            if number == DECLINED_CARD:
                gateway.settle(booking.payment_id, succeed=False, reason="card_declined")
            else:
                gateway.settle_pending(booking.payment_id)
        except DomainError as error:
            context["errors"]["card"] = error.detail
            return render(request, "card.html", context, status_code=409)
    return RedirectResponse(f"/trips/{booking_id}", status_code=303)


@router.get("/trips/{booking_id}/cancel", response_class=HTMLResponse)
def cancel_page(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    """The refund the policy gives now, shown before the renter confirms."""
    actor, booking = visitor.booking(booking_id)
    role = booking.check_party(actor.id, actor.role)
    refund = visitor.container.bookings.refund_for(booking, role, visitor.now)
    context = trip_context(visitor, booking) | {"refund": refund, "errors": {}, "reason": ""}
    return render(request, "cancel.html", context)


@router.post("/trips/{booking_id}/cancel", response_class=HTMLResponse)
def cancel(request: Request, booking_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    actor, booking = visitor.booking(booking_id)
    reason = form.get("reason", "")[:2000] or "cancelled by the renter"
    try:
        with command_context(actor, request_id=visitor.request_id):
            position = visitor.container.bookings.cancel(actor, booking_id, reason, visitor.now)
    except DomainError as error:
        role = booking.check_party(actor.id, actor.role)
        refund = visitor.container.bookings.refund_for(booking, role, visitor.now)
        context = trip_context(visitor, booking) | {
            "refund": refund,
            "errors": {"reason": error.detail},
            "reason": reason,
        }
        return render(request, "cancel.html", context, status_code=409)
    visitor.read_your_writes(position, "bookings")
    return RedirectResponse(f"/trips/{booking_id}", status_code=303)
