"""The processor calls, as jobs. Each runs after its intent was recorded, calls the gateway
with the step's idempotency key (so a retry after a timeout or a lost reply is the same
request) and records the processor id it got back. Outcomes arrive as webhooks.

Handlers take ids as strings (jobs are JSON) and return a small JSON-able result.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from application.jobs import JobQueue
from application.payment_access import PaymentAccess
from application.payment_gateway import (
    CaptureRequest,
    ChargeRequest,
    DepositRequest,
    GatewayDeclined,
    GatewayError,
    RefundRequest,
    ReleaseRequest,
    TransferRequest,
    idempotency_key,
)
from application.retry import retry_on_conflict
from domain.money import Money
from domain.order_charge import order_charge_id_for
from domain.payment import HELD, Payment

log = logging.getLogger(__name__)


class NotReady(GatewayError):
    """What the job needs is not known yet (an intent id, a charge): try again later."""

    retryable = True


class PaymentJobs:
    def __init__(self, payments: PaymentAccess) -> None:
        self.p = payments

    def register(self, jobs: JobQueue) -> None:
        for name in (
            "create_charge",
            "create_order_charge",
            "authorize_deposit",
            "refund",
            "capture_deposit",
            "release_deposit",
            "transfer_to_owner",
        ):
            jobs.register(name, getattr(self, name))

    def _record(self, booking_id: UUID, act: Any) -> None:
        def attempt() -> int:
            payment = self.p.payment(booking_id)
            return self.p.store.record(payment) if act(payment) else 0

        retry_on_conflict(attempt)

    # -- charge and deposit hold -------------------------------------------------------------

    def create_charge(self, booking_id: str) -> dict[str, Any]:
        bid = UUID(booking_id)
        payment = self.p.payment(bid)
        if payment.order_charge_id is not None:  # paid by its order's one charge
            return self.create_order_charge(payment.charge["order_id"])
        try:
            result = self.p.gateway.create_charge(
                ChargeRequest(
                    payment_id=payment.id,
                    booking_id=bid,
                    amount=Money(payment.total, payment.currency),
                    idempotency_key=payment.charge["idempotency_key"]
                    or idempotency_key(bid, "charge"),
                    description=f"Booking {bid}",
                )
            )
        except GatewayDeclined as declined:  # its webhook fails the payment
            return {"status": "declined", "reason": declined.code}
        self.p.remember_intent(result.intent_id, payment.id)
        self._record(bid, lambda pay: pay.record_charge_intent(result.intent_id, self.p.now()))
        return {
            "intent_id": result.intent_id,
            "client_secret": result.client_secret,
            "status": result.status,
        }

    def create_order_charge(self, order_id: str) -> dict[str, Any]:
        """The order's ONE charge for its whole basket (one key per order); the intent id is
        recorded on the `OrderCharge` and on every item's `Payment` in one save, so an item's
        refunds and payout find the charge they come out of."""
        charge = self.p.order_charge(order_charge_id_for(UUID(order_id)))
        try:
            result = self.p.gateway.create_charge(
                ChargeRequest(
                    payment_id=charge.id,
                    booking_id=charge.order_id,
                    amount=Money(charge.total, charge.currency),
                    idempotency_key=charge.idempotency_key,
                    description=f"Order {charge.order_id}",
                    order_id=charge.order_id,
                )
            )
        except GatewayDeclined as declined:  # its webhook fails every item's payment
            return {"status": "declined", "reason": declined.code}
        self.p.remember_intent(result.intent_id, charge.id)

        def attempt() -> int:
            fresh = self.p.order_charge(charge.id)
            payments = [self.p.store.load(pid, "payment") for pid in fresh.payment_ids]
            now = self.p.now()
            changed = [fresh] if fresh.record_intent(result.intent_id, now) else []
            changed += [p for p in payments if p.record_charge_intent(result.intent_id, now)]
            return self.p.store.record(*changed) if changed else 0

        retry_on_conflict(attempt)
        return {
            "intent_id": result.intent_id,
            "client_secret": result.client_secret,
            "status": result.status,
        }

    def authorize_deposit(self, booking_id: str) -> dict[str, Any]:
        bid = UUID(booking_id)
        payment = self.p.payment(bid)
        if not payment.deposit:
            return {"status": "none"}
        try:
            result = self.p.gateway.authorize_deposit(
                DepositRequest(
                    payment_id=payment.id,
                    booking_id=bid,
                    amount=Money(payment.deposit, payment.currency),
                    idempotency_key=idempotency_key(bid, "deposit"),
                )
            )
        except GatewayDeclined as declined:
            return {"status": "declined", "reason": declined.code}
        self.p.remember_intent(result.intent_id, payment.id)
        self._record(bid, lambda pay: pay.record_deposit_intent(result.intent_id, self.p.now()))
        # The client secret confirms the hold in the browser (the web checkout's second step).
        return {
            "intent_id": result.intent_id,
            "client_secret": result.client_secret,
            "status": result.status,
        }

    # -- refunds -----------------------------------------------------------------------------

    def refund(self, booking_id: str, refund_id: str) -> dict[str, Any]:
        bid = UUID(booking_id)
        payment = self.p.payment(bid)
        refund = payment.refunds.get(refund_id)
        if refund is None or refund["status"] != "requested" or refund["processor_id"]:
            return {"status": "nothing"}
        intent = payment.charge["intent_id"]
        if intent is None:
            raise NotReady("no_intent", "the charge's intent is not recorded yet")
        result = self.p.gateway.refund(
            RefundRequest(
                payment_id=payment.id,
                booking_id=bid,
                charge_id=intent,
                amount=Money(refund["amount"], payment.currency),
                idempotency_key=idempotency_key(bid, refund_id),
                reason="requested_by_customer",
            )
        )

        def record(pay: Payment) -> bool:
            if pay.refunds[refund_id]["processor_id"] == result.refund_id:
                return False
            if pay.refunds[refund_id]["processor_id"] or result.refund_id in (
                pay.refund_by_processor_id
            ):
                return False  # its webhook matched it to an equal refund of ours first
            return pay.record_refund_id(refund_id, result.refund_id, self.p.now())

        self._record(bid, record)
        return {"refund_id": result.refund_id, "status": result.status}

    # -- deposit decisions -------------------------------------------------------------------

    def capture_deposit(self, booking_id: str) -> dict[str, Any]:
        bid = UUID(booking_id)
        payment, order = self.p.payment(bid), self.p.deposit_order(bid)
        if order is None or order.decision != "capture":
            return {"status": "nothing"}
        hold = payment.deposit_hold
        if hold["captured"] >= order.amount or hold["status"] not in (HELD, "none"):
            return {"status": hold["status"]}
        if hold["intent_id"] is None or hold["status"] != HELD:
            raise NotReady("not_authorized", "the deposit hold is not authorised yet")
        result = self.p.gateway.capture_deposit(
            CaptureRequest(
                payment.id,
                bid,
                hold["intent_id"],
                idempotency_key(bid, "capture-deposit"),
                Money(order.amount, payment.currency),
            )
        )
        return {"status": result.status}

    def release_deposit(self, booking_id: str) -> dict[str, Any]:
        bid = UUID(booking_id)
        payment = self.p.payment(bid)
        hold = payment.deposit_hold
        if hold["status"] not in (HELD, "none") or hold["intent_id"] is None:
            return {"status": hold["status"]}
        result = self.p.gateway.release_deposit(
            ReleaseRequest(
                payment.id, bid, hold["intent_id"], idempotency_key(bid, "release-deposit")
            )
        )
        return {"status": result.status}

    # -- payouts -----------------------------------------------------------------------------

    def transfer_to_owner(self, booking_id: str) -> dict[str, Any]:
        bid = UUID(booking_id)
        payment = self.p.payment(bid)
        account = self.p.owner_account(payment.owner_id)
        if account is None or not account.payouts_enabled:
            return {"status": "waiting_for_account"}
        if payment.transfer_due_at is None or payment.owner_balance <= 0:
            return {"status": "nothing"}
        pending = [t for t, v in payment.transfers.items() if v["status"] != "sent"]
        if pending:
            return {"status": "pending", "transfer_id": pending[0]}
        intent = payment.charge["intent_id"]
        if intent is None:
            raise NotReady("no_intent", "the charge's intent is not recorded yet")
        charge = self.p.gateway.retrieve("payment_intent", intent).charge_id
        if charge is None:
            raise NotReady("no_charge", "the processor has no charge for the intent yet")
        step = f"payout-{len(payment.transfers) + 1}"
        result = self.p.gateway.transfer_to_owner(
            TransferRequest(
                payment.id,
                bid,
                Money(payment.owner_balance, payment.currency),
                account.account_id,
                charge,
                idempotency_key(bid, step),
            )
        )
        self._record(bid, lambda pay: pay.record_transfer_id(result.transfer_id, self.p.now()))
        return {"transfer_id": result.transfer_id, "status": "created"}
