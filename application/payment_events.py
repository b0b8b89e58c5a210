"""Processor events → Payment commands, and the Booking/Calendar moves they cause.

`apply_event` acts on loaded aggregates and returns the other aggregates to save with the
payment (one transaction). It never calls the processor: what it needs from there
(`refund_amount_hint`) is read before the transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from application.context import Actor
from application.payment_access import PaymentAccess
from application.payment_gateway import GatewayError, GatewayEvent
from domain import booking as b
from domain.booking import Booking
from domain.errors import ConflictError
from domain.money import Money
from domain.payment import REQUESTED, SUCCEEDED, Payment

log = logging.getLogger(__name__)
SYSTEM = Actor.system()
LAPSED_REFUND = "refund-lapsed"


def refund_amount_hint(
    payments: PaymentAccess, payment_id: UUID, event: GatewayEvent
) -> int | None:
    """`charge.refunded` carries the charge's running refunded total, not the refund's own
    amount: for a refund the payment does not know yet, ask the processor (a read)."""
    if event.type != "charge.refunded" or not event.refund_id:
        return None
    try:
        payment: Payment = payments.store.load(payment_id, "payment")
        if event.refund_id in payment.refund_by_processor_id:
            return None
    except Exception:
        return None
    try:
        state = payments.gateway.retrieve("refund", event.refund_id)
    except GatewayError:
        return None  # the delivery fails; the processor retries it
    return state.amount.amount if state.amount else None


def succeeded_refunds(payment: Payment) -> int:
    return sum(r["amount"] for r in payment.refunds.values() if r["status"] == SUCCEEDED)


def _money(event: GatewayEvent, payment: Payment) -> Money:
    return event.amount or Money(0, payment.currency)


def _fee(event: GatewayEvent, payment: Payment) -> Money:
    return event.fee or Money(0, payment.currency)


def apply_event(
    payments: PaymentAccess, payment: Payment, event: GatewayEvent, at: datetime, hint: int | None
) -> list[Any]:
    kind, step = event.type, event.step or "charge"
    known = payment.deposit_hold["intent_id"] if step == "deposit" else payment.charge["intent_id"]
    intent = event.intent_id or event.object_id or known or ""
    if kind.startswith("payment_intent.") and intent:
        payments.remember_intent(intent, payment.id)
    if kind == "payment_intent.succeeded" and step == "deposit":
        # amount_received is the intent's running total: a second report of one capture (the
        # webhook after reconciliation synthesised it) must not count it twice.
        captured = _money(event, payment) - Money(
            payment.deposit_hold["captured"], payment.currency
        )
        if captured.amount <= 0:
            return []
        payment.record_deposit_captured(event.id, intent, captured, _fee(event, payment), at)
        if payment.deposit_capturable > 0:  # Stripe releases what a partial capture left
            payment.record_deposit_released(f"{event.id}:rest", at)
        return _after_deposit(payments, payment, at)
    if kind == "payment_intent.succeeded":
        if not payment.capture_charge(
            event.id, intent, _money(event, payment), _fee(event, payment), at
        ):
            return []
        return _charge_captured(payments, payment, at)
    if kind == "payment_intent.amount_capturable_updated":
        if step == "deposit":
            payment.authorize_deposit(event.id, intent, _money(event, payment), at)
            return _after_deposit(payments, payment, at)
        else:
            payment.authorize_charge(event.id, intent, _money(event, payment), at)
        return []
    if kind in ("payment_intent.payment_failed", "payment_intent.canceled"):
        if step == "deposit":
            if kind == "payment_intent.canceled":
                payment.record_deposit_released(event.id, at, expired=event.reason == "automatic")
            else:  # a declined deposit card: the renter may try again until expiry
                payment.record_deposit_declined(event.id, intent, event.reason, at)
            return []
        if not payment.fail_charge(event.id, event.reason or "payment failed", at):
            return []
        return _charge_failed(payments, payment, event.reason or "payment failed", at)
    if kind in ("charge.refunded", "refund.updated", "refund.failed"):
        return _refund_event(payments, payment, event, at, hint)
    if kind.startswith("charge.dispute."):
        _chargeback(payment, event, at)
        return []
    if kind == "transfer.created" and event.transfer_id:
        sent = event.amount or Money(0, payment.currency)
        if payment.record_transfer_sent(event.id, event.transfer_id, sent, at):
            return _settle_if_completed(payments, payment, at)
        return []
    if kind == "transfer.reversed" and event.transfer_id and event.reversal_id:
        known = payment.transfers.get(event.transfer_id, {}).get("reversed", 0)
        amount = _money(event, payment).amount - int(known)
        if amount > 0:
            payment.record_transfer_reversed(
                event.id, event.transfer_id, event.reversal_id, Money(amount, payment.currency), at
            )
    return []


def deposit_secured(payment: Payment) -> bool:
    """A booking with a deposit confirms only once the hold was on the renter's card (a
    capture reported before the authorisation implies it)."""
    return not payment.deposit or bool(payment.deposit_hold["seen"])


def _after_deposit(payments: PaymentAccess, payment: Payment, at: datetime) -> list[Any]:
    """The booking may have been waiting for its deposit with the charge captured."""
    if payment.charge["status"] != "captured" or not deposit_secured(payment):
        return []
    booking = payments.booking(payment.booking_id)
    if booking.status != b.PENDING_PAYMENT:
        return []
    return _charge_captured(payments, payment, at, booking)


def _charge_captured(
    payments: PaymentAccess, payment: Payment, at: datetime, booking: Booking | None = None
) -> list[Any]:
    booking = booking or payments.booking(payment.booking_id)
    if booking.status == b.PENDING_PAYMENT and not deposit_secured(payment):
        return []  # confirmed when the hold arrives; refunded if the booking lapses first
    if booking.status == b.PENDING_PAYMENT:
        calendar = payments.bookings.calendar(booking.listing_id)
        try:
            calendar.confirm(booking.id, at)
        except ConflictError:  # the hold lapsed before the money arrived: give it back
            _refund_everything(payment, "the hold lapsed before the payment arrived", at)
            expires_at = booking.deadline("expires_at")
            if expires_at is not None and at >= expires_at:
                booking.expire(SYSTEM.id, at)  # and let the booking lapse with its hold
                calendar.release(booking.id, "expired", at)
                return [booking, calendar]
            return []
        booking.confirm(by=SYSTEM.id, at=at)
        return [booking, calendar]
    if booking.status in (b.CANCELLED, b.REFUNDED):  # paid after a cancellation or expiry
        _refund_everything(payment, "paid after the booking was cancelled", at)
    return []


def _refund_everything(payment: Payment, reason: str, at: datetime) -> None:
    if payment.refundable > 0 and LAPSED_REFUND not in payment.refunds:
        amount = Money(payment.refundable, payment.currency)
        payment.request_refund(LAPSED_REFUND, amount, reason, SYSTEM.id, "system", at)


def _charge_failed(
    payments: PaymentAccess, payment: Payment, reason: str, at: datetime
) -> list[Any]:
    booking = payments.booking(payment.booking_id)
    if booking.status != b.PENDING_PAYMENT:
        return []
    calendar = payments.bookings.calendar(booking.listing_id)
    booking.fail_payment(reason, at, by=SYSTEM.id)
    calendar.release(booking.id, "payment failed", at)
    return [booking, calendar]


def _ours(payment: Payment, step: str) -> str | None:
    return step if step in payment.refunds else None


def _refund_event(
    payments: PaymentAccess, payment: Payment, event: GatewayEvent, at: datetime, hint: int | None
) -> list[Any]:
    rid = event.refund_id or event.object_id
    if not rid:
        return []
    failed = event.type == "refund.failed" or event.status in ("failed", "canceled")
    if failed:
        payment.record_refund_failed(
            event.id, rid, event.reason, at, refund_id=_ours(payment, event.step)
        )
        return []
    if event.type == "refund.updated" and event.status != "succeeded":
        return []
    ours = _ours(payment, event.step) or payment.refund_by_processor_id.get(rid)
    if ours is not None:
        amount = int(payment.refunds[ours]["amount"])
    elif event.type == "refund.updated":
        amount = _money(event, payment).amount
    elif hint is not None:
        amount = hint
        ours = _match_requested(payment, amount)
    else:
        raise GatewayUnavailableForRefund(rid)
    payment.record_refund_succeeded(
        event.id, rid, Money(amount, payment.currency), at, refund_id=ours
    )
    return _mark_refunded_if_done(payments, payment, at)


class GatewayUnavailableForRefund(Exception):
    """The refund's own amount could not be read: fail the delivery so it comes again."""


def _match_requested(payment: Payment, amount: int) -> str | None:
    """Our oldest requested refund of this amount the processor id is not known for yet
    (its job's reply has not been recorded). Equal amounts are interchangeable."""
    for refund_id, refund in payment.refunds.items():
        if (
            refund["status"] == REQUESTED
            and not refund["processor_id"]
            and refund["amount"] == amount
        ):
            return refund_id
    return None


def _mark_refunded_if_done(payments: PaymentAccess, payment: Payment, at: datetime) -> list[Any]:
    booking = payments.booking(payment.booking_id)
    if booking.status != b.CANCELLED or not booking.refund_due:
        return []
    due = int(booking.refund_due.get("amount", 0))
    if due > 0 and succeeded_refunds(payment) >= due:
        booking.mark_refunded(SYSTEM.id, at)
        return [booking]
    return []


def _settle_if_completed(payments: PaymentAccess, payment: Payment, at: datetime) -> list[Any]:
    booking: Booking = payments.booking(payment.booking_id)
    if booking.status == b.COMPLETED and payment.owner_balance <= 0:
        booking.settle(SYSTEM.id, at)
        return [booking]
    return []


def _chargeback(payment: Payment, event: GatewayEvent, at: datetime) -> None:
    dispute = event.dispute_id or event.object_id
    amount, fee = _money(event, payment), _fee(event, payment)
    if event.type == "charge.dispute.created":
        payment.open_chargeback(event.id, dispute, amount, fee, event.reason, at)
    elif event.type == "charge.dispute.funds_withdrawn":
        payment.record_chargeback_funds_withdrawn(event.id, dispute, amount, fee, at)
    elif event.type == "charge.dispute.funds_reinstated":
        payment.record_chargeback_funds_reinstated(event.id, dispute, amount, fee, at)
    elif event.type == "charge.dispute.closed" and event.status in ("won", "lost"):
        payment.close_chargeback(event.id, dispute, event.status, amount, fee, at)


# What a charge's outcome does to its booking, for an order's one charge too
# (application/order_charges.py applies them to every item of the basket).
after_capture = _charge_captured
after_failure = _charge_failed
apply_chargeback = _chargeback
mark_refunded_if_done = _mark_refunded_if_done
