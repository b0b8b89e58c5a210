"""A Payment's processor disputes (chargebacks): opened, funds withdrawn and reinstated,
won or lost.

Chargeback facts imply their predecessors: funds reinstated or a loss imply the funds were
withdrawn, funds withdrawn after a win are reinstated at once. Every chargeback event
carries the dispute's amount and fee (Stripe sends the whole dispute object each time).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import RuleViolation
from domain.money import Money
from domain.payment_state import PaymentState


class PaymentChargebacks(PaymentState):
    def open_chargeback(
        self, event_id: str, dispute_id: str, amount: Money, fee: Money, reason: str, at: datetime
    ) -> bool:
        if self.has_processed(event_id) or dispute_id in self.chargebacks:
            return False
        self._open_chargeback(event_id, dispute_id, amount, fee, reason, at)
        return True

    def _open_chargeback(
        self, event_id: str, dispute_id: str, amount: Money, fee: Money, reason: str, at: datetime
    ) -> dict[str, Any]:
        if dispute_id not in self.chargebacks:
            minor, fee_minor = self._minor(amount, "dispute"), self._minor(fee, "fee", zero_ok=True)
            self._chargeback_opened(event_id, dispute_id, minor, fee_minor, reason, at)
        return self.chargebacks[dispute_id]

    @event("ChargebackOpened")
    def _chargeback_opened(
        self, event_id: str, dispute_id: str, amount: int, fee: int, reason: str, at: datetime
    ) -> None:
        self.chargebacks[dispute_id] = {
            "amount": amount,
            "fee": fee,
            "reason": reason,
            "status": "open",
            "withdrawn": 0,
            "reinstated": 0,
            "withdrawn_once": False,
        }
        self._seen(event_id, "ChargebackOpened", at)

    def record_chargeback_funds_withdrawn(
        self, event_id: str, dispute_id: str, amount: Money, fee: Money, at: datetime
    ) -> bool:
        if self.has_processed(event_id):
            return False
        minor, fee_minor = self._minor(amount, "dispute"), self._minor(fee, "fee", zero_ok=True)
        dispute = self._open_chargeback(event_id, dispute_id, amount, fee, "", at)
        if dispute["withdrawn_once"]:
            return False
        self._withdraw(event_id, dispute_id, minor, fee_minor, at)
        if dispute["status"] == "won":
            self._reinstate(event_id, dispute_id, at)
        return True

    def _withdraw(
        self, event_id: str, dispute_id: str, amount: int, fee: int, at: datetime
    ) -> None:
        self._chargeback_funds_withdrawn(event_id, dispute_id, amount, fee, at, **self._ids())

    def _reinstate(self, event_id: str, dispute_id: str, at: datetime) -> None:
        amount = self.chargebacks[dispute_id]["withdrawn"]
        self._chargeback_funds_reinstated(event_id, dispute_id, amount, at, **self._ids())

    @event("ChargebackFundsWithdrawn")
    def _chargeback_funds_withdrawn(
        self,
        event_id: str,
        dispute_id: str,
        amount: int,
        fee: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        self.chargebacks[dispute_id].update(withdrawn=amount, withdrawn_once=True)
        self._seen(event_id, "ChargebackFundsWithdrawn", at)

    def record_chargeback_funds_reinstated(
        self, event_id: str, dispute_id: str, amount: Money, fee: Money, at: datetime
    ) -> bool:
        """The disputed amount comes back; the dispute fee stays an expense."""
        if self.has_processed(event_id):
            return False
        dispute = self._open_chargeback(event_id, dispute_id, amount, fee, "", at)
        if dispute["reinstated"] or dispute["status"] == "lost":
            return False
        if not dispute["withdrawn_once"]:
            self._withdraw(event_id, dispute_id, dispute["amount"], dispute["fee"], at)
        self._reinstate(event_id, dispute_id, at)
        return True

    @event("ChargebackFundsReinstated")
    def _chargeback_funds_reinstated(
        self,
        event_id: str,
        dispute_id: str,
        amount: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        self.chargebacks[dispute_id]["reinstated"] = amount
        self._seen(event_id, "ChargebackFundsReinstated", at)

    def close_chargeback(
        self,
        event_id: str,
        dispute_id: str,
        outcome: str,
        amount: Money,
        fee: Money,
        at: datetime,
    ) -> bool:
        if outcome not in ("won", "lost"):
            raise RuleViolation("bad_chargeback_outcome", "a chargeback is won or lost")
        if self.has_processed(event_id):
            return False
        dispute = self._open_chargeback(event_id, dispute_id, amount, fee, "", at)
        if dispute["status"] != "open":
            return False
        if outcome == "won":
            if dispute["withdrawn"] and not dispute["reinstated"]:
                self._reinstate(event_id, dispute_id, at)
            self._chargeback_won(event_id, dispute_id, at)
            return True
        if not dispute["withdrawn_once"]:
            self._withdraw(event_id, dispute_id, dispute["amount"], dispute["fee"], at)
        lost = dispute["withdrawn"] - dispute["reinstated"]
        self._chargeback_lost(event_id, dispute_id, lost, at, **self._ids())
        return True

    @event("ChargebackWon")
    def _chargeback_won(self, event_id: str, dispute_id: str, at: datetime) -> None:
        self.chargebacks[dispute_id]["status"] = "won"
        self._seen(event_id, "ChargebackWon", at)

    @event("ChargebackLost")
    def _chargeback_lost(
        self,
        event_id: str,
        dispute_id: str,
        amount: int,
        at: datetime,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
    ) -> None:
        self.chargebacks[dispute_id]["status"] = "lost"
        self._seen(event_id, "ChargebackLost", at)
