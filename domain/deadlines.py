"""Deadlines as data: what falls due for a booking, and the port the scheduler learns it from.

Here, below both layers, because the scheduler (application) asks and the deadlines view
(projections) answers, and neither may import the other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

EXPIRE, START, END, COMPLETE = "expire", "start", "end", "complete"
KINDS = (EXPIRE, START, END, COMPLETE)


@dataclass(frozen=True)
class Deadline:
    booking_id: UUID
    kind: str  # expire | start | end | complete
    due_at: datetime
    booking_version: int


class DeadlineSource(ABC):
    """Where the scheduler learns what is due (the deadlines view)."""

    @abstractmethod
    def due(self, at: datetime, limit: int) -> list[Deadline]:
        """Deadlines due at or before `at`, oldest first."""
