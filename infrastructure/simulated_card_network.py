"""The card network's side of the simulated processor, for the dev endpoints and tests: a
renter confirming or declining, onboarding completed, an authorisation lapsing, a refund
failing, a chargeback opened and closed.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import Connection

from application.payment_gateway import ProcessorState
from domain.errors import ConflictError, NotFoundError
from infrastructure.simulated_processor import SimulatedProcessor
from infrastructure.simulated_storage import balance_transaction, objects
from infrastructure.stripe_events import state_of
from projections.base import write_transaction

DISPUTE_FEE = 1500  # minor units, like Stripe's 15.00
_PENDING = ("requires_confirmation", "requires_payment_method")  # waiting for a (new) card


class SimulatedCardNetwork(SimulatedProcessor):
    def settle(
        self, payment_id: UUID, *, succeed: bool, reason: str = "", step: str = "charge"
    ) -> ProcessorState:
        """Confirms (or declines) the payment's newest unconfirmed intent for `step`."""
        with self._lock, write_transaction(self.engine) as conn:
            intents = self._intents(conn, payment_id)
            intents = [i for i in intents if i["metadata"]["step"] == step]
            if not intents:
                raise NotFoundError("payment_not_found", f"payment {payment_id} not found")
            intent = intents[0]
            if intent["status"] not in _PENDING:
                raise ConflictError("payment_settled", f"the {step} is already {intent['status']}")
            decline = "" if succeed else (reason or "card_declined")
            self._confirm(conn, intent, decline)
        self._after_work()
        return state_of("payment_intent", intent)

    def settle_pending(self, payment_id: UUID) -> list[str]:
        """The renter confirms every step still waiting for a card (charge and deposit), in
        one go; returns the steps settled."""
        with self._lock, write_transaction(self.engine) as conn:
            intents = self._intents(conn, payment_id)
            if not intents:
                raise NotFoundError("payment_not_found", f"payment {payment_id} not found")
            newest: dict[str, dict[str, Any]] = {}
            for intent in intents:  # newest first
                newest.setdefault(intent["metadata"]["step"], intent)
            pending = [i for i in newest.values() if i["status"] in _PENDING]
            if not pending:
                raise ConflictError("payment_settled", "nothing of this payment is pending")
            for intent in sorted(pending, key=lambda i: i["metadata"]["step"] != "charge"):
                self._confirm(conn, intent, "")
        self._after_work()
        return [str(i["metadata"]["step"]) for i in pending]

    def _intents(self, conn: Connection, payment_id: UUID) -> list[dict[str, Any]]:
        rows = conn.execute(
            sa.select(objects.c.data)
            .where(objects.c.payment_id == str(payment_id), objects.c.kind == "payment_intent")
            .order_by(objects.c.seq.desc())
        ).all()
        return [json.loads(r.data) for r in rows]

    def complete_onboarding(self, account_id: str) -> None:
        with self._lock, write_transaction(self.engine) as conn:
            account = self._get(conn, account_id, "account")
            account |= {"charges_enabled": True, "payouts_enabled": True, "details_submitted": True}
            self._put(conn, account, "account.updated")
        self._after_work()

    def expire_authorization(self, intent_id: str) -> None:
        """Stripe cancels an uncaptured authorisation after 7 days."""
        with self._lock, write_transaction(self.engine) as conn:
            intent = self._get(conn, intent_id, "payment_intent")
            if intent["status"] != "requires_capture":
                raise ConflictError("not_authorized", f"the intent is {intent['status']}")
            intent |= {"status": "canceled", "cancellation_reason": "automatic"}
            intent["amount_capturable"] = 0
            self._put(conn, intent, "payment_intent.canceled")
        self._after_work()

    def fail_refund(self, refund_id: str, reason: str = "expired_or_canceled_card") -> None:
        with self._lock, write_transaction(self.engine) as conn:
            refund = self._get(conn, refund_id, "refund")
            refund |= {"status": "failed", "failure_reason": reason}
            charge = self._get(conn, refund["charge"], "charge")
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            self._put(conn, charge)
            self._put(conn, refund, "refund.failed")
        self._after_work()

    def open_dispute(self, intent_id: str, *, reason: str = "fraudulent") -> str:
        """A chargeback on the intent's charge: created, then the funds withdrawn."""
        with self._lock, write_transaction(self.engine) as conn:
            intent = self._get(conn, intent_id, "payment_intent")
            charge = self._get(conn, intent["latest_charge"], "charge")
            amount = charge["amount_captured"] - charge["amount_refunded"]
            dispute = {
                "id": self._new_id("dp", f"dispute:{charge['id']}"),
                "object": "dispute",
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": intent_id,
                "reason": reason,
                "status": "needs_response",
                "balance_transactions": [],
                "metadata": {},  # as at Stripe: resolve by charge or intent id
            }
            self._put(conn, dispute, "charge.dispute.created")
            dispute["balance_transactions"] = [
                balance_transaction(dispute["id"] + ":w", -amount, DISPUTE_FEE, charge["currency"])
            ]
            dispute["status"] = "needs_response"
            self._put(conn, dispute, "charge.dispute.funds_withdrawn")
        self._after_work()
        return str(dispute["id"])

    def close_dispute(self, dispute_id: str, *, won: bool) -> None:
        with self._lock, write_transaction(self.engine) as conn:
            dispute = self._get(conn, dispute_id, "dispute")
            dispute["status"] = "won" if won else "lost"
            if won:  # the amount comes back; the dispute fee does not
                dispute["balance_transactions"].append(
                    balance_transaction(
                        dispute_id + ":r", dispute["amount"], 0, dispute["currency"]
                    )
                )
                self._put(conn, dispute, "charge.dispute.funds_reinstated")
            self._put(conn, dispute, "charge.dispute.closed")
        self._after_work()
