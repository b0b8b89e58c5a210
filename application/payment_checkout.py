"""What the processor says about a booking's charge, for the renter coming back from the
processor's payment form: the form's redirect carries the intent's status in its query
string, which anyone can type, so the page asks the processor itself. The booking still
confirms only from the processor's webhook (`Payments.handle_event`)."""

from __future__ import annotations

from uuid import UUID

from application.context import Actor
from application.payment_access import PaymentAccess
from application.payment_gateway import ProcessorState
from domain.errors import PermissionDenied


def charge_at_processor(
    payments: PaymentAccess, actor: Actor, booking_id: UUID
) -> ProcessorState | None:
    """The booking's charge intent as the processor reports it now; None before the charge
    has an intent. 404 for strangers (as `bookings.get`), 403 for parties other than the
    renter. Raises the port's `GatewayError` when the processor does not answer."""
    booking = payments.bookings.get(booking_id, viewer=actor)
    if actor.id != booking.renter_id:
        booking.check_party(actor.id, actor.role)
        raise PermissionDenied("not_renter", "only the renter pays for a booking")
    payment = payments.find_payment(booking_id)
    intent_id = payment.charge["intent_id"] if payment is not None else None
    if intent_id is None:
        return None
    return payments.gateway.retrieve("payment_intent", intent_id)
