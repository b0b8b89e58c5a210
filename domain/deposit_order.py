"""DepositOrder: the platform's decision about a booking's deposit hold, recorded before the
processor is asked (id = uuid5 of the booking).

One decision per hold, as the processor allows one capture of a manual-capture intent
(the rest is released with it): capture an amount for damage, or release everything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, RuleViolation

DEPOSIT_ORDER_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/deposit-order")


def deposit_order_id_for(booking_id: UUID) -> UUID:
    return uuid5(DEPOSIT_ORDER_NS, str(booking_id))


class DepositOrder(Aggregate):
    @staticmethod
    def create_id(booking_id: UUID, **_: Any) -> UUID:
        return deposit_order_id_for(booking_id)

    @event("Opened")
    def __init__(self, booking_id: UUID, deposit: int, currency: str, at: datetime) -> None:
        self.booking_id = booking_id
        self.deposit = deposit
        self.currency = currency
        self.decision: str | None = None  # capture | release
        self.amount = 0
        self.reason = ""
        self.decided_at: datetime | None = None

    def order_capture(self, amount: int, reason: str, by: UUID, role: str, at: datetime) -> bool:
        if self.decision == "capture" and self.amount == amount:
            return False
        self.check_undecided()
        if not 0 < amount <= self.deposit:
            raise RuleViolation("bad_deposit_capture", f"capture must be in (0, {self.deposit}]")
        if not reason.strip():
            raise RuleViolation("reason_required", "a deposit capture needs a reason")
        self._capture_ordered(amount, reason, by, role, at)
        return True

    @event("CaptureOrdered")
    def _capture_ordered(self, amount: int, reason: str, by: UUID, role: str, at: datetime) -> None:
        self.decision, self.amount, self.reason, self.decided_at = "capture", amount, reason, at

    def order_release(self, reason: str, by: UUID, role: str, at: datetime) -> bool:
        if self.decision == "release":
            return False
        self.check_undecided()
        self._release_ordered(reason, by, role, at)
        return True

    @event("ReleaseOrdered")
    def _release_ordered(self, reason: str, by: UUID, role: str, at: datetime) -> None:
        self.decision, self.reason, self.decided_at = "release", reason, at

    def check_undecided(self) -> None:
        if self.decision is not None:
            raise ConflictError(
                "deposit_decided", f"the deposit was already ordered to {self.decision}"
            )
