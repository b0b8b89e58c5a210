"""What a booking's money still needs, done idempotently: the process manager of payments.

Runs after every processor event, after a cancellation/expiry, and from the scheduler for
bookings the payments view says are not final. Reconciling (`Payments.follow_up(...,
reconcile=True)`) also re-reads the processor's state of anything still in flight:
`missed_events` synthesises each outcome it never heard of, as an event with a derived id
(`reconcile:<object>:<status>`) that `Payments` handles like a webhook, so a lost one
converges to the same state as a delivered one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from application.context import Actor
from application.payment_access import PaymentAccess
from application.payment_commands import PaymentCommands
from application.payment_gateway import GatewayError, GatewayEvent, ObjectKind
from domain import booking as b
from domain.money import Money
from domain.payment import EXPIRED, HELD, RELEASED, REQUESTED, Payment

log = logging.getLogger(__name__)
SYSTEM = Actor.system()
CANCEL_REFUND = "refund-cancel"
LAPSED_REFUND = "refund-lapsed"  # as `payment_events.LAPSED_REFUND`
FINISHED = (b.CANCELLED, b.REFUNDED)


def follow_up(p: PaymentCommands, booking_id: UUID, at: datetime, *, suffix: str = "") -> int:
    """`suffix` tells requeued jobs apart from the first ones (a reconciliation's minute)."""
    booking = p.booking(booking_id)
    payment = p.find_payment(booking_id)
    if payment is None:
        return 0
    position = 0
    captured = payment.charge["status"] == "captured"
    due = int((booking.refund_due or {}).get("amount", 0))
    if (
        booking.status == b.CANCELLED
        and due > 0
        and captured
        and CANCEL_REFUND not in payment.refunds
    ):
        amount = min(due, payment.refundable)
        if amount > 0:
            position = p.refund(
                booking_id,
                Money(amount, payment.currency),
                "booking cancelled: refund per the cancellation policy",
                by=SYSTEM,
                at=at,
                refund_id=CANCEL_REFUND,
            )
            payment = p.payment(booking_id)
    if booking.status in FINISHED and captured and booking.deadlines.get("expires_at"):
        # Lapsed or cancelled before it was confirmed (a deposit that never came): the
        # charge goes back whole.
        position = max(position, _refund_unconfirmed(p, booking_id, payment, at))
        payment = p.payment(booking_id)
    hold_open = payment.deposit and payment.deposit_hold["status"] not in (RELEASED, EXPIRED)
    order = p.deposit_order(booking_id)
    if hold_open and order is None and booking.status in (*FINISHED, b.COMPLETED, b.SETTLED):
        reason = (
            "booking cancelled"
            if booking.status in FINISHED
            else "inspection window closed without a dispute"
        )
        position = max(position, p.release_deposit(booking_id, by=SYSTEM, at=at, reason=reason))
        order = p.deposit_order(booking_id)
    sent = any(t["status"] == "sent" for t in payment.transfers.values())
    if booking.status == b.COMPLETED and sent and payment.owner_balance <= 0:
        booking.settle(SYSTEM.id, at)
        position = max(position, p.store.record(booking))
    _requeue(p, payment, booking.status, order, suffix)  # no-ops for jobs already queued
    return position


def _refund_unconfirmed(
    p: PaymentCommands, booking_id: UUID, payment: Payment, at: datetime
) -> int:
    if LAPSED_REFUND in payment.refunds or CANCEL_REFUND in payment.refunds:
        return 0
    amount = payment.refundable
    if amount <= 0:
        return 0
    return p.refund(
        booking_id,
        Money(amount, payment.currency),
        "the booking lapsed before it was confirmed",
        by=SYSTEM,
        at=at,
        refund_id=LAPSED_REFUND,
    )


def _requeue(p: PaymentAccess, payment: Payment, status: str, order: object, suffix: str) -> None:
    """Jobs whose recorded intent has no processor id yet run again (same gateway key)."""
    bid = payment.booking_id
    if status == b.PENDING_PAYMENT and payment.charge["intent_id"] is None:
        if payment.order_charge_id is not None:  # the order's one charge, not its own
            p.enqueue_order_charge(UUID(payment.charge["order_id"]), suffix)
        else:
            p.enqueue("create_charge", bid, "charge", suffix)
    active = status in (b.PENDING_PAYMENT, b.CONFIRMED)
    if active and payment.deposit and payment.deposit_hold["intent_id"] is None:
        p.enqueue("authorize_deposit", bid, "deposit", suffix)
    for refund_id, refund in payment.refunds.items():
        if refund["status"] == REQUESTED and not refund["processor_id"]:
            p.enqueue("refund", bid, refund_id, suffix, refund_id=refund_id)
    decision = getattr(order, "decision", None)
    if decision is not None and payment.deposit_hold["status"] in (HELD, "none"):
        name = "capture_deposit" if decision == "capture" else "release_deposit"
        p.enqueue(name, bid, name.replace("_", "-"), suffix)


def _retrieve(p: PaymentAccess, kind: ObjectKind, object_id: str):  # type: ignore[no-untyped-def]
    try:
        return p.gateway.retrieve(kind, object_id)
    except GatewayError as error:
        log.info("reconciliation could not read %s %s: %s", kind, object_id, error)
        return None


def missed_events(p: PaymentAccess, payment: Payment) -> list[GatewayEvent]:
    """The processor's outcomes of what is still in flight, as events with derived ids."""
    events: list[GatewayEvent] = []
    common: dict[str, Any] = {"payment_id": payment.id, "booking_id": payment.booking_id}
    intent = payment.charge["intent_id"]
    if intent and payment.charge["status"] in (REQUESTED, HELD):
        state = _retrieve(p, "payment_intent", intent)
        if state is not None and state.status in ("succeeded", "canceled"):
            kind = "payment_intent." + state.status
            events.append(
                GatewayEvent(
                    f"reconcile:{intent}:{state.status}",
                    kind,
                    charge_id=state.charge_id,
                    amount=state.amount_received if state.status == "succeeded" else state.amount,
                    object_id=intent,
                    intent_id=intent,
                    step="charge",
                    status=state.status,
                    reason="reconciled",
                    **common,
                )
            )
    hold = payment.deposit_hold
    if hold["intent_id"] and hold["status"] in ("none", HELD):
        state = _retrieve(p, "payment_intent", hold["intent_id"])
        if state is not None:
            kind = {
                "requires_capture": "payment_intent.amount_capturable_updated",
                "succeeded": "payment_intent.succeeded",
                "canceled": "payment_intent.canceled",
            }.get(state.status)
            seen = hold["seen"] and state.status == "requires_capture"
            if kind and not seen:
                amount = (
                    state.amount_capturable
                    if state.status == "requires_capture"
                    else state.amount_received
                )
                events.append(
                    GatewayEvent(
                        f"reconcile:{hold['intent_id']}:{state.status}",
                        kind,
                        charge_id=state.charge_id,
                        amount=amount or state.amount,
                        object_id=hold["intent_id"],
                        intent_id=hold["intent_id"],
                        step="deposit",
                        status=state.status,
                        **common,
                    )
                )
    for refund_id, refund in payment.refunds.items():
        if refund["status"] != REQUESTED or not refund["processor_id"]:
            continue
        state = _retrieve(p, "refund", refund["processor_id"])
        if state is not None and state.status in ("succeeded", "failed", "canceled"):
            events.append(
                GatewayEvent(
                    f"reconcile:{refund['processor_id']}:{state.status}",
                    "refund.updated",
                    charge_id=state.charge_id,
                    amount=Money(refund["amount"], payment.currency),
                    object_id=refund["processor_id"],
                    refund_id=refund["processor_id"],
                    step=refund_id,
                    status=state.status,
                    **common,
                )
            )
    for transfer_id, transfer in payment.transfers.items():
        if transfer["status"] == "sent":
            continue
        state = _retrieve(p, "transfer", transfer_id)
        if state is not None and state.amount is not None:
            events.append(
                GatewayEvent(
                    f"reconcile:{transfer_id}:created",
                    "transfer.created",
                    charge_id=state.charge_id,
                    amount=state.amount,
                    object_id=transfer_id,
                    transfer_id=transfer_id,
                    status="paid",
                    **common,
                )
            )
    return events
