"""Paying with Stripe's Payment Element (the Stripe gateway, production): the checkout page
obtains the booking's PaymentIntent through the API's own use case (`start_payment`, as
`POST /api/v1/bookings/{id}/payment`) and hands its client secret to Stripe.js, which
confirms the card and sends the browser back to `/trips/{id}/paid`. That page reads the
intent's status from Stripe through the server, never from the redirect's query string;
the booking still confirms only when the processor's webhook lands."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import command_context
from application.payment_checkout import checkout_at_processor
from application.payment_gateway import GatewayError
from domain import booking as b
from interfaces.web.routing import PageRoute
from interfaces.web.session import Visitor, VisitorDep
from interfaces.web.templating import render
from interfaces.web.trips import _simulated, trip_context

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# What Stripe.js and the Payment Element need (Stripe's CSP guide), and our own assets.
STRIPE_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' https://js.stripe.com https://*.js.stripe.com",
        "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com",
        "connect-src 'self' https://api.stripe.com",
        "img-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",  # htmx's indicator style
        "object-src 'none'",
        "base-uri 'self'",
    )
)

# The intent's statuses (Stripe's), as the renter reads them back on our page.
RECEIVED = frozenset({"succeeded", "processing", "requires_capture"})
NOT_THROUGH = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "canceled"}
)


def return_url(visitor: Visitor, booking_id: UUID) -> str:
    """Absolute (Stripe requires it), on the configured public address, not the Host header."""
    base = visitor.container.settings.public_url.rstrip("/")
    return f"{base}/trips/{booking_id}/paid"


@router.get("/trips/{booking_id}/checkout", response_class=HTMLResponse)
def checkout(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    """Creates or obtains the booking's PaymentIntent (idempotent: the same intent on every
    visit), then mounts Stripe's Payment Element with its client secret."""
    actor, booking = visitor.booking(booking_id)
    if _simulated(visitor) is not None:  # the embedded default pays with the simulated card
        return RedirectResponse(f"/trips/{booking_id}/card", status_code=303)
    if booking.status != b.PENDING_PAYMENT:
        return RedirectResponse(f"/trips/{booking_id}", status_code=303)
    settings = visitor.container.settings
    context: dict[str, Any] = trip_context(visitor, booking) | {
        "publishable_key": settings.stripe_publishable_key,
        "client_secret": None,
        "return_url": return_url(visitor, booking_id),
    }
    if not settings.stripe_publishable_key:
        return render(request, "checkout.html", context, status_code=503)
    with command_context(actor, request_id=visitor.request_id):
        result = visitor.container.payments.start_payment(actor, booking_id, visitor.now)
    context["client_secret"] = result["client_secret"]  # None while the job is queued
    context["declined"] = result["status"] == "declined"
    response = render(request, "checkout.html", context)
    response.headers["Content-Security-Policy"] = STRIPE_CSP
    return response


@router.get("/trips/{booking_id}/paid", response_class=HTMLResponse)
def paid(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    """Where Stripe.js sends the renter after confirming. Stripe appends the intent's id,
    client secret and status to this address; none of them is read: the intent's status
    comes from Stripe through the server, the booking's from our own store."""
    actor, booking = visitor.booking(booking_id)
    context = trip_context(visitor, booking) | {
        "intent_status": None,
        "deposit_status": None,
        "unreachable": False,
        "client_secret": None,
    }
    try:
        state = checkout_at_processor(visitor.container.payments, actor, booking_id)
    except GatewayError:
        context["unreachable"] = True
    else:
        context["intent_status"] = state.charge.status if state.charge else None
        context["deposit_status"] = state.deposit.status if state.deposit else None
        context["client_secret"] = state.deposit_secret
    status = context["intent_status"]
    context["received"] = status in RECEIVED
    context["not_through"] = status in NOT_THROUGH
    # Second step of a listing with a deposit: the hold is its own intent, confirmed here.
    settings = visitor.container.settings
    holding = context["received"] and context["client_secret"] and booking.deposit
    if holding and booking.status == b.PENDING_PAYMENT and settings.stripe_publishable_key:
        context["publishable_key"] = settings.stripe_publishable_key
        context["return_url"] = return_url(visitor, booking_id)
        response = render(request, "paid.html", context)
        response.headers["Content-Security-Policy"] = STRIPE_CSP
        return response
    context["client_secret"] = None
    return render(request, "paid.html", context)
