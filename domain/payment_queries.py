"""What the payments use cases read from the payments view.

Here, below both layers, because the payments use cases (application) ask and the payments
view (projections) answers, and neither may import the other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID

from domain import booking as b

# Booking statuses in which the owner's payout may fall due.
PAYOUT_STATUSES = frozenset({b.IN_PROGRESS, b.AWAITING_RETURN_INSPECTION, b.COMPLETED, b.SETTLED})


class PaymentQueries(ABC):
    """What the payments use cases read from the payments view."""

    @abstractmethod
    def payment_for(self, processor_id: str) -> UUID | None:
        """The payment an intent (pi_) or charge (ch_) id belongs to (disputes carry no ids)."""

    @abstractmethod
    def owner_for_account(self, account_id: str) -> UUID | None: ...

    @abstractmethod
    def due_payouts(self, at: datetime, limit: int, owner_id: UUID | None = None) -> list[UUID]:
        """Bookings whose payout time passed, captured, not paid out, owner enabled."""

    @abstractmethod
    def needing_attention(self, stuck_before: datetime, limit: int) -> list[UUID]:
        """Bookings whose money is not final: untouched since `stuck_before`, or whose
        booking finished (completed / cancelled) with a follow-up still to do."""
