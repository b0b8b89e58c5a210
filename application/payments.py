"""The payment step of a booking: ask the gateway for a charge, act on its outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.bookings import Bookings
from application.context import Actor
from application.payment_gateway import (
    ChargeRequest,
    GatewayEvent,
    PaymentGateway,
    RefundRequest,
    idempotency_key,
    payment_id_for,
)
from application.retry import retry_on_conflict
from domain.booking import PENDING_PAYMENT
from domain.errors import ConflictError, InvalidTransition, PermissionDenied
from domain.money import Money


class Payments:
    def __init__(self, bookings: Bookings, gateway: PaymentGateway) -> None:
        self.bookings = bookings
        self.store = bookings.store
        self.gateway = gateway

    def start(self, actor: Actor, booking_id: UUID, at: datetime) -> dict[str, Any]:
        """Records the intent to pay, then (outside any transaction) asks for the charge."""
        booking = self.bookings.get(booking_id, viewer=actor)
        if actor.id != booking.renter_id:
            booking.check_party(actor.id, actor.role)  # 404 for strangers
            raise PermissionDenied("not_renter", "only the renter pays for a booking")
        if booking.status != PENDING_PAYMENT:
            raise InvalidTransition(
                "not_payable", f"a booking that is {booking.status} cannot be paid"
            )
        payment_id = payment_id_for(booking_id)
        amount = Money(booking.quote["total"], booking.quote["currency"])
        position = 0
        if booking.payment_id is None:
            booking.request_payment(payment_id, amount.as_dict(), by=actor.id, at=at)
            position = self.store.record(booking)
        result = self.gateway.create_charge(
            ChargeRequest(
                payment_id=payment_id,
                booking_id=booking_id,
                amount=amount,
                idempotency_key=idempotency_key(booking_id, "charge"),
                description=f"Booking {booking_id}",
            )
        )
        return {
            "payment_id": payment_id,
            "client_secret": result.client_secret,
            "status": result.status,
            "position": position,
        }

    def handle(self, event: GatewayEvent, at: datetime) -> int:
        """Turns a gateway outcome into booking and calendar changes (one save)."""
        if event.booking_id is None or event.payment_id is None:
            return 0  # not one of our charges (or a dispute: resolved by intent id)
        if event.type == "charge.succeeded":
            return self._charge_succeeded(event, at)
        if event.type == "charge.failed":
            return self._charge_failed(event, at)
        return 0

    def _charge_succeeded(self, event: GatewayEvent, at: datetime) -> int:
        booking_id, payment_id = event.booking_id, event.payment_id
        assert booking_id is not None and payment_id is not None and event.amount is not None

        def attempt() -> int:
            booking = self.bookings.get(booking_id)
            if booking.status != PENDING_PAYMENT:
                return -1
            calendar = self.bookings.calendar(booking.listing_id)
            try:
                calendar.confirm(booking_id, at)
            except ConflictError:
                return -1  # the hold lapsed before the money arrived
            booking.confirm(by=Actor.system().id, at=at)
            return self.store.record(booking, calendar)

        position = retry_on_conflict(attempt)
        if position >= 0:
            return position
        booking = self.bookings.get(booking_id)
        if booking.status == "confirmed":
            return 0  # a duplicate delivery
        # Money arrived for units we no longer hold: give it back, let the booking lapse.
        self.gateway.refund(
            RefundRequest(
                payment_id=payment_id,
                booking_id=booking_id,
                charge_id=event.charge_id or event.intent_id or "",
                amount=event.amount,
                idempotency_key=idempotency_key(booking_id, "refund-late-charge"),
            )
        )
        if booking.status == PENDING_PAYMENT:
            return self.bookings.expire(booking_id, at)
        return 0

    def _charge_failed(self, event: GatewayEvent, at: datetime) -> int:
        booking_id = event.booking_id
        assert booking_id is not None

        def attempt() -> int:
            booking = self.bookings.get(booking_id)
            if booking.status != PENDING_PAYMENT:
                return 0
            calendar = self.bookings.calendar(booking.listing_id)
            booking.fail_payment(event.reason or "payment failed", at, by=Actor.system().id)
            calendar.release(booking_id, "payment failed", at)
            return self.store.record(booking, calendar)

        return retry_on_conflict(attempt)
