"""What the processor says about a booking's charge and deposit hold, for the renter coming
back from the processor's payment form: the form's redirect carries the intent's status in
its query string, which anyone can type, so the page asks the processor itself. The booking
still confirms only from the processor's webhooks (`Payments.handle_event`)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.context import Actor
from application.payment_access import PaymentAccess
from application.payment_gateway import ProcessorState, idempotency_key
from domain.errors import PermissionDenied

# PaymentIntent statuses that wait for the renter's card (Stripe's names).
NEEDS_THE_RENTER = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action"}
)


@dataclass(frozen=True)
class CheckoutState:
    charge: ProcessorState | None  # None before the charge has an intent
    deposit: ProcessorState | None  # None without a deposit, or before its intent
    deposit_secret: str | None  # set while the renter still has to confirm the hold


def checkout_at_processor(payments: PaymentAccess, actor: Actor, booking_id: UUID) -> CheckoutState:
    """The booking's charge and deposit intents as the processor reports them now. 404 for
    strangers (as `bookings.get`), 403 for parties other than the renter. Raises the port's
    `GatewayError` when the processor does not answer."""
    booking = payments.bookings.get(booking_id, viewer=actor)
    if actor.id != booking.renter_id:
        booking.check_party(actor.id, actor.role)
        raise PermissionDenied("not_renter", "only the renter pays for a booking")
    payment = payments.find_payment(booking_id)
    if payment is None:
        return CheckoutState(None, None, None)
    charge_id, deposit_id = payment.charge["intent_id"], payment.deposit_hold["intent_id"]
    charge = payments.gateway.retrieve("payment_intent", charge_id) if charge_id else None
    deposit = payments.gateway.retrieve("payment_intent", deposit_id) if deposit_id else None
    secret = None
    if deposit is not None and deposit.status in NEEDS_THE_RENTER:
        job = payments.jobs.get(idempotency_key(booking_id, "deposit"))
        result = job.result if job is not None else None
        secret = result.get("client_secret") if isinstance(result, dict) else None
    return CheckoutState(charge, deposit, secret)
