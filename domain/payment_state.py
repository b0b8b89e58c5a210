"""The state every part of a Payment shares, and the queries and helpers they use.

`Payment` (domain/payment.py) is put together from parts, one per responsibility: the charge
(`payment_charge.py`), refunds (`payment_refunds.py`), the deposit hold (`payment_deposit.py`),
the owner's transfers (`payment_transfers.py`) and chargebacks (`payment_chargebacks.py`).
Each part holds its commands and the `@event` methods that apply its events; `Payment`
declares those methods in its own class body (`event_methods`), so every event class is
`Payment.<Name>` in `domain.payment`, the topic its stored events carry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

from eventsourcing.domain import CommandMethodDecorator

from domain.errors import RuleViolation
from domain.money import Money

REQUESTED, SUCCEEDED, FAILED = "requested", "succeeded", "failed"
HELD, RELEASED, EXPIRED = "authorized", "released", "expired"


class Ids(TypedDict):
    booking_id: UUID
    owner_id: UUID
    currency: str


class OwnerChange(TypedDict):
    owner_payable: int
    owner_receivable: int


def owner_split(before: int, after: int) -> tuple[int, int]:
    """The change of the owner's balance as (payable change, receivable change)."""
    return max(after, 0) - max(before, 0), max(-after, 0) - max(-before, 0)


def event_methods(*parts: type) -> dict[str, Any]:
    """The `@event` methods the parts define, for the aggregate's class body."""
    return {
        name: value
        for part in parts
        for name, value in vars(part).items()
        if isinstance(value, CommandMethodDecorator)
    }


class PaymentState:
    """A Payment's state, as `Payment.__init__` (its Created event) sets it up."""

    booking_id: UUID
    owner_id: UUID
    renter_id: UUID
    currency: str
    total: int
    owner_payout: int
    promotion: int
    fees: dict[str, int]
    deposit: int | None
    charge: dict[str, Any]
    deposit_hold: dict[str, Any]
    refunds: dict[str, dict[str, Any]]
    refund_by_processor_id: dict[str, str]
    parked_refunds: dict[str, dict[str, Any]]
    failed_processor_refunds: list[str]
    owner_balance: int
    transfer_due_at: str | None
    transfers: dict[str, dict[str, Any]]
    parked_reversals: dict[str, dict[str, Any]]
    reversal_ids: list[str]
    chargebacks: dict[str, dict[str, Any]]
    processed: dict[str, str]  # processor event id -> the first event it made
    created_at: datetime
    updated_at: datetime

    def has_processed(self, event_id: str) -> bool:
        return event_id in self.processed

    @property
    def processed_event_ids(self) -> list[str]:
        return list(self.processed)

    def _active_refunds(self, key: str) -> int:
        return sum(r[key] for r in self.refunds.values() if r["status"] != FAILED)

    @property
    def refunded(self) -> int:
        """Refunds requested or succeeded (not failed), in minor units."""
        return self._active_refunds("amount")

    @property
    def held_by_chargebacks(self) -> int:
        return sum(c["withdrawn"] - c["reinstated"] for c in self.chargebacks.values())

    @property
    def refundable(self) -> int:
        return max(0, self.charge["captured"] - self.refunded - self.held_by_chargebacks)

    @property
    def deposit_capturable(self) -> int:
        hold = self.deposit_hold
        return hold["authorized"] - hold["captured"] if hold["status"] == HELD else 0

    def _ids(self) -> Ids:
        return Ids(booking_id=self.booking_id, owner_id=self.owner_id, currency=self.currency)

    def _owner_change(self, delta: int) -> OwnerChange:
        payable, receivable = owner_split(self.owner_balance, self.owner_balance + delta)
        return OwnerChange(owner_payable=payable, owner_receivable=receivable)

    def _minor(self, money: Money, what: str, *, zero_ok: bool = False) -> int:
        if money.currency != self.currency:
            raise RuleViolation("currency_mismatch", f"{what} is not in {self.currency}")
        if money.amount < 0 or (money.amount == 0 and not zero_ok):
            raise RuleViolation("bad_amount", f"{what} must be positive")
        return money.amount

    def _apply_owner(self, owner_payable: int, owner_receivable: int) -> None:
        self.owner_balance += owner_payable - owner_receivable

    def _seen(self, event_id: str, kind: str, at: datetime) -> None:
        self.processed.setdefault(event_id, kind)
        self.updated_at = at
