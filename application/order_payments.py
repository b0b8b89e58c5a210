"""Paying for an order, and the money follow-ups of cancelling one.

One command pays the whole basket: every item's `Payment` is opened with its charge (and
deposit hold) requested, and every item booking moves to payment-requested, in ONE save; then
the processor calls are queued per item. Each item keeps its own `Payment` (id = uuid5 of its
booking) because payouts, refunds, deposits and the ledger are per booking and per owner:
an order of two owners' items posts to each owner's payable account from its own item's
capture, and the ledger stays a pure function of payment events, balanced per entry.

What this is not: one processor charge for the basket. The gateway is asked for one charge
per item (idempotency key per item booking), so a card may see several charges.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.context import Actor
from application.orders import Orders
from application.payment_gateway import idempotency_key
from application.payments import Payments
from application.retry import retry_on_conflict
from domain import booking as b
from domain.errors import InvalidTransition, PermissionDenied
from domain.money import Money
from domain.payment import Payment


class OrderPayments:
    def __init__(self, orders: Orders, payments: Payments) -> None:
        self.orders = orders
        self.payments = payments

    def pay(self, actor: Actor, order_id: UUID, at: datetime) -> dict[str, Any]:
        """Requests every live item's charge (and deposit) in one save, then queues them.
        409 `order_not_payable` while an item still awaits its owner's approval."""
        store = self.orders.store

        def attempt() -> tuple[int, list[UUID]]:
            order = self.orders.get(order_id, viewer=actor)
            if actor.id != order.renter_id:
                raise PermissionDenied("not_renter", "only the renter pays for an order")
            bookings = [bk for bk in self.orders.items(order) if bk.status in b.ACTIVE_STATUSES]
            waiting = [bk for bk in bookings if bk.status != b.PENDING_PAYMENT]
            if waiting or not bookings:
                names = ", ".join(f"{bk.id} ({bk.status})" for bk in waiting) or "none"
                raise InvalidTransition(
                    "order_not_payable", f"every live item must await payment; not: {names}"
                )
            changed: list[Any] = []
            for booking in bookings:
                payment = self.payments.find_payment(booking.id)
                if payment is None:
                    deposit = Money.from_dict(booking.deposit) if booking.deposit else None
                    payment = Payment.open(
                        booking_id=booking.id,
                        owner_id=booking.owner_id,
                        renter_id=booking.renter_id,
                        quote=booking.quote,
                        deposit=deposit,
                        by=actor.id,
                        at=at,
                    )
                payment.request_charge(idempotency_key(booking.id, "charge"), actor.id, at)
                total = Money(booking.quote["total"], booking.quote["currency"])
                booking.request_payment(payment.id, total.as_dict(), by=actor.id, at=at)
                changed += [booking, payment]
            return store.record(*changed), [bk.id for bk in bookings]

        position, booking_ids = retry_on_conflict(attempt)
        items = []
        for booking_id in booking_ids:
            payment = self.payments.payment(booking_id)
            job = self.payments.enqueue("create_charge", booking_id, "charge")
            if payment.deposit:
                self.payments.enqueue("authorize_deposit", booking_id, "deposit")
            result = job.result if isinstance(job.result, dict) else {}
            items.append(
                {
                    "booking_id": booking_id,
                    "payment_id": payment.id,
                    "client_secret": result.get("client_secret"),
                    "status": result.get("status") or payment.charge["status"],
                    "amount": {"amount": payment.total, "currency": payment.currency},
                }
            )
        total = sum(i["amount"]["amount"] for i in items)
        currency = items[0]["amount"]["currency"]
        return {
            "order_id": order_id,
            "total": {"amount": total, "currency": currency},
            "payments": items,
            "position": position,
        }

    def cancel(self, actor: Actor, order_id: UUID, reason: str, at: datetime) -> int:
        """Cancels the order's live items in one save, then refunds each paid item per its
        policy (the follow-up the booking cancellation runs too)."""
        position, cancelled = self.orders.cancel(actor, order_id, reason, at)
        for booking_id in cancelled:
            self.payments.after_cancel(booking_id, at)
        return position
