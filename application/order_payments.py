"""Paying for an order with ONE processor charge, and the money follow-ups of cancelling one.

One command pays the whole basket: an `OrderCharge` (domain/order_charge.py) is recorded for
the total of the live items with ONE idempotency key (`rentbook:{order}:charge`), every item's
`Payment` is opened and joined to it, and every item booking moves to payment-requested, all
in ONE save; then one job asks the processor for one charge (one PaymentIntent on Stripe) and
records its intent on the order charge and on every item payment.

The money still splits per item and per owner. The charge's success is fanned out, in one
save, to each item `Payment` as a captured share (its quote total) with its share of the
processor fee (largest remainder, summing exactly to the fee), so each owner's payout, each
item's refunds and the ledger are the booking's own lifecycle: the ledger stays a pure
function of payment events, balanced per entry. A failure fails every item and every booking
follows the failed-payment path (application/order_charges.py).

Deposits stay one manual-capture hold per item: each is captured for its own damage or
released when its own inspection window closes, and a Stripe intent can be captured once
only, so one hold for the basket could not serve two items' separate decisions.

Cancelling an item (through its booking or the whole order) refunds per that item's policy as
a partial refund on the ONE charge (`payment_intent` + `amount`); an item never refunds more
than its captured share, and the shares sum to the charge, so partial refunds never exceed it.
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
from domain.errors import ConflictError, InvalidTransition, NotFoundError, PermissionDenied
from domain.money import Money
from domain.order_charge import OrderCharge, order_charge_id_for
from domain.payment import Payment


class OrderPayments:
    def __init__(self, orders: Orders, payments: Payments) -> None:
        self.orders = orders
        self.payments = payments

    def pay(self, actor: Actor, order_id: UUID, at: datetime) -> dict[str, Any]:
        """Records the order's one charge (and each item's deposit hold) in one save, then
        queues the charge and the holds. 409 `order_not_payable` while an item still awaits
        its owner's approval."""
        store = self.orders.store
        charge_id = order_charge_id_for(order_id)

        def attempt() -> int:
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
            key = idempotency_key(order_id, "charge")
            changed: list[Any] = []
            items: list[dict[str, Any]] = []
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
                payment.join_order_charge(charge_id, order_id, at)
                payment.request_charge(key, actor.id, at)
                total = Money(payment.total, payment.currency)
                booking.request_payment(payment.id, total.as_dict(), by=actor.id, at=at)
                changed += [booking, payment]
                items.append(
                    {
                        "booking_id": str(booking.id),
                        "payment_id": str(payment.id),
                        "owner_id": str(booking.owner_id),
                        "amount": payment.total,
                    }
                )
            charge = self._charge(charge_id)
            if charge is None:
                currency = str(bookings[0].quote["currency"])
                charge = OrderCharge(
                    order_id=order_id,
                    renter_id=order.renter_id,
                    currency=currency,
                    items=items,
                    idempotency_key=key,
                    by=actor.id,
                    at=at,
                )
            elif charge.items != items:
                raise ConflictError("order_charge_requested", "the order's charge has other items")
            return store.record(charge, *changed)

        position = retry_on_conflict(attempt)
        charge = self.payments.order_charge(charge_id)
        job = self.payments.enqueue_order_charge(order_id)
        items = []
        for booking_id in charge.booking_ids:
            payment = self.payments.payment(booking_id)
            if payment.deposit:
                self.payments.enqueue("authorize_deposit", booking_id, "deposit")
            items.append(
                {
                    "booking_id": booking_id,
                    "payment_id": payment.id,
                    "client_secret": None,
                    "status": payment.charge["status"],
                    "amount": {"amount": payment.total, "currency": payment.currency},
                }
            )
        result = job.result if isinstance(job.result, dict) else {}
        return {
            "order_id": order_id,
            "charge_id": charge.id,
            "client_secret": result.get("client_secret"),
            "status": result.get("status") or charge.status,
            "total": {"amount": charge.total, "currency": charge.currency},
            "payments": items,
            "position": position,
        }

    def _charge(self, charge_id: UUID) -> OrderCharge | None:
        try:
            return self.payments.order_charge(charge_id)
        except NotFoundError:
            return None

    def cancel(self, actor: Actor, order_id: UUID, reason: str, at: datetime) -> int:
        """Cancels the order's live items in one save, then refunds each paid item per its
        policy (the follow-up the booking cancellation runs too): a partial refund each, on
        the order's one charge."""
        position, cancelled = self.orders.cancel(actor, order_id, reason, at)
        for booking_id in cancelled:
            self.payments.after_cancel(booking_id, at)
        return position
