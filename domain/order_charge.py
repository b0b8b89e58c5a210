"""OrderCharge: an order's ONE charge at the processor (id = uuid5 of the order).

Paying an order asks the processor for one charge (one PaymentIntent, one idempotency key)
for the whole basket. The money still belongs to the items: each item keeps its own
`Payment` (per booking, per owner), and this aggregate only records what the basket's charge
knows — its key, its intent, its outcome — and how that outcome splits over the items. A
capture is split here, deterministically, and fanned out to every item `Payment` as that
item's captured share in the same save (application/order_charges.py), so refunds, payouts,
deposits and the ledger stay the booking's lifecycle, not a fork of it.

The split: each item's share of the captured amount is its quote total (a partial capture
splits pro rata), and the processor's fee is allocated over the shares by largest remainder;
both sum exactly to what the processor reported. A chargeback on the one charge is split
over the items by what each still had (fixed when the dispute is first seen, so every later
report of it splits the same way).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, RuleViolation
from domain.order import allocate

ORDER_CHARGE_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/order-charge")
REQUESTED, CAPTURED, FAILED = "requested", "captured", "failed"


def order_charge_id_for(order_id: UUID) -> UUID:
    return uuid5(ORDER_CHARGE_NS, str(order_id))


def split_charge(amount: int, fee: int, totals: Sequence[int]) -> list[tuple[int, int]]:
    """(captured share, fee share) per item: the amount pro rata to the item totals (the
    whole total when the capture is whole), the fee pro rata to the shares; largest remainder,
    ties to the first item, so both columns sum exactly to `amount` and `fee`."""
    shares = list(totals) if amount == sum(totals) else allocate(amount, totals)
    return list(zip(shares, allocate(fee, shares), strict=True))


class OrderCharge(Aggregate):
    @staticmethod
    def create_id(order_id: UUID, **_: Any) -> UUID:
        return order_charge_id_for(order_id)

    @event("Requested")
    def __init__(
        self,
        order_id: UUID,
        renter_id: UUID,
        currency: str,
        items: list[dict[str, Any]],  # {booking_id, payment_id, owner_id, amount}, in order
        idempotency_key: str,
        by: UUID,
        at: datetime,
    ) -> None:
        if not items:
            raise RuleViolation("empty_order", "an order charge has at least one item")
        if any(int(i["amount"]) < 0 for i in items):
            raise RuleViolation("bad_amount", "an item's amount is not negative")
        self.order_id, self.renter_id, self.currency = order_id, renter_id, currency
        self.items = items
        self.total = sum(int(i["amount"]) for i in items)
        self.idempotency_key = idempotency_key
        self.intent_id: str | None = None
        self.status = REQUESTED
        self.captured = self.fee = 0
        self.shares: list[dict[str, Any]] = []
        self.failure = ""
        self.dispute_weights: dict[str, list[int]] = {}
        self.processed: list[str] = []
        self.requested_at = self.updated_at = at

    @property
    def booking_ids(self) -> list[UUID]:
        return [UUID(str(i["booking_id"])) for i in self.items]

    @property
    def payment_ids(self) -> list[UUID]:
        return [UUID(str(i["payment_id"])) for i in self.items]

    def has_processed(self, event_id: str) -> bool:
        return event_id in self.processed

    def record_intent(self, intent_id: str, at: datetime) -> bool:
        if self.intent_id is not None:
            if self.intent_id != intent_id:
                raise ConflictError("charge_intent_mismatch", "the charge has another intent")
            return False
        self._intent_recorded(intent_id, at)
        return True

    @event("IntentRecorded")
    def _intent_recorded(self, intent_id: str, at: datetime) -> None:
        self.intent_id = intent_id
        self.updated_at = at

    def capture(
        self, event_id: str, intent_id: str, amount: int, fee: int, at: datetime
    ) -> list[dict[str, Any]] | None:
        """The processor captured `amount` (its fee `fee`): the split per item, or None when
        this was known already."""
        if self.has_processed(event_id) or self.status == CAPTURED:
            return None
        if self.intent_id not in (None, intent_id):
            raise ConflictError("charge_intent_mismatch", "the charge has another intent")
        if not 0 < amount <= self.total or fee < 0:
            raise RuleViolation("bad_capture", f"captured {amount} of an order of {self.total}")
        split = split_charge(amount, fee, [int(i["amount"]) for i in self.items])
        shares = [
            {"booking_id": str(i["booking_id"]), "amount": part, "fee": part_fee}
            for i, (part, part_fee) in zip(self.items, split, strict=True)
        ]
        self._captured(event_id, intent_id, amount, fee, shares, at)
        return shares

    @event("Captured")
    def _captured(
        self,
        event_id: str,
        intent_id: str,
        amount: int,
        fee: int,
        shares: list[dict[str, Any]],
        at: datetime,
    ) -> None:
        self.status, self.intent_id = CAPTURED, intent_id
        self.captured, self.fee, self.shares = amount, fee, shares
        self._seen(event_id, at)

    def fail(self, event_id: str, reason: str, at: datetime) -> bool:
        """A decline or a cancelled intent; a later success (another card) still captures."""
        if self.has_processed(event_id) or self.status == CAPTURED:
            return False
        self._failed(event_id, reason or "payment failed", at)
        return True

    @event("Failed")
    def _failed(self, event_id: str, reason: str, at: datetime) -> None:
        self.status, self.failure = FAILED, reason
        self._seen(event_id, at)

    def dispute_split(self, dispute_id: str, still_held: Sequence[int]) -> list[int]:
        """The weights a chargeback splits by: what each item still had when the dispute was
        first seen (`still_held`, in item order), kept for every later report of it."""
        if dispute_id not in self.dispute_weights:
            if len(still_held) != len(self.items):
                raise RuleViolation("bad_split", "one weight per item")
            self._dispute_split(dispute_id, [max(0, int(w)) for w in still_held])
        return self.dispute_weights[dispute_id]

    @event("DisputeSplit")
    def _dispute_split(self, dispute_id: str, weights: list[int]) -> None:
        self.dispute_weights[dispute_id] = weights

    def _seen(self, event_id: str, at: datetime) -> None:
        if event_id not in self.processed:
            self.processed.append(event_id)
        self.updated_at = at
