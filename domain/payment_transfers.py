"""A Payment's transfers to the owner: scheduled, sent, and reversed.

A transfer reversal reported before the transfer is parked and applied when the transfer is
sent.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import ConflictError
from domain.money import Money
from domain.payment_state import PaymentState


class PaymentTransfers(PaymentState):
    def schedule_transfer(self, due_at: datetime, by: UUID, at: datetime) -> bool:
        if self.transfer_due_at is not None:
            if self.transfer_due_at != due_at.isoformat():
                raise ConflictError("transfer_already_scheduled", "the payout has another time")
            return False
        self._transfer_scheduled(due_at, by, at)
        return True

    @event("TransferScheduled")
    def _transfer_scheduled(self, due_at: datetime, by: UUID, at: datetime) -> None:
        self.transfer_due_at = due_at.isoformat()
        self.updated_at = at

    def record_transfer_id(self, transfer_id: str, at: datetime) -> bool:
        if transfer_id in self.transfers:
            return False
        self._transfer_id_recorded(transfer_id, at)
        return True

    @event("TransferIdRecorded")
    def _transfer_id_recorded(self, transfer_id: str, at: datetime) -> None:
        self.transfers[transfer_id] = {"status": "created", "amount": 0, "reversed": 0}
        self.updated_at = at

    def record_transfer_sent(
        self, event_id: str, transfer_id: str, amount: Money, at: datetime
    ) -> bool:
        known = self.transfers.get(transfer_id)
        if self.has_processed(event_id) or (known is not None and known["status"] == "sent"):
            return False
        minor = self._minor(amount, "transfer")
        self._transfer_sent(
            event_id=event_id,
            transfer_id=transfer_id,
            amount=minor,
            at=at,
            **self._ids(),
            **self._owner_change(-minor),
        )
        for reversal_id, parked in list(self.parked_reversals.items()):
            if (
                parked["transfer_id"] == transfer_id
                and self._reversible(transfer_id) >= (parked["amount"])
            ):
                self._reverse(parked["event_id"], transfer_id, reversal_id, parked["amount"], at)
        return True

    @event("TransferSent")
    def _transfer_sent(
        self,
        event_id: str,
        transfer_id: str,
        amount: int,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.transfers[transfer_id] = {"status": "sent", "amount": amount, "reversed": 0}
        self._apply_owner(owner_payable, owner_receivable)
        self._seen(event_id, "TransferSent", at)

    def _reversible(self, transfer_id: str) -> int:
        transfer = self.transfers.get(transfer_id)
        if transfer is None or transfer["status"] != "sent":
            return 0
        return int(transfer["amount"] - transfer["reversed"])

    def record_transfer_reversed(
        self, event_id: str, transfer_id: str, reversal_id: str, amount: Money, at: datetime
    ) -> bool:
        if (
            self.has_processed(event_id)
            or reversal_id in self.reversal_ids
            or reversal_id in self.parked_reversals
        ):
            return False
        minor = self._minor(amount, "reversal")
        if self._reversible(transfer_id) >= minor:
            self._reverse(event_id, transfer_id, reversal_id, minor, at)
        else:
            self._transfer_reversal_parked(event_id, transfer_id, reversal_id, minor, at)
        return True

    def _reverse(
        self, event_id: str, transfer_id: str, reversal_id: str, amount: int, at: datetime
    ) -> None:
        self._transfer_reversed(
            event_id=event_id,
            transfer_id=transfer_id,
            reversal_id=reversal_id,
            amount=amount,
            at=at,
            **self._ids(),
            **self._owner_change(amount),
        )

    @event("TransferReversalParked")
    def _transfer_reversal_parked(
        self, event_id: str, transfer_id: str, reversal_id: str, amount: int, at: datetime
    ) -> None:
        self.parked_reversals[reversal_id] = {
            "transfer_id": transfer_id,
            "amount": amount,
            "event_id": event_id,
        }
        self._seen(event_id, "TransferReversalParked", at)

    @event("TransferReversed")
    def _transfer_reversed(
        self,
        event_id: str,
        transfer_id: str,
        reversal_id: str,
        amount: int,
        booking_id: UUID,
        owner_id: UUID,
        currency: str,
        owner_payable: int,
        owner_receivable: int,
        at: datetime,
    ) -> None:
        self.transfers[transfer_id]["reversed"] += amount
        self.reversal_ids.append(reversal_id)
        self.parked_reversals.pop(reversal_id, None)
        self._apply_owner(owner_payable, owner_receivable)
        self._seen(event_id, "TransferReversed", at)
