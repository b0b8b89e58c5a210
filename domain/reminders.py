"""A reminder about a booking (check-in tomorrow, review request, unpaid hold about to
expire, request awaiting the owner's answer) as an aggregate of one event.

Its id is derived from (booking, kind): the event store refuses a second `Issued` for the
same id (version 1 exists), so a reminder is recorded exactly once however many schedulers
race for it or however often one retries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import RuleViolation
from domain.notifications import REMINDER_KINDS

_NAMESPACE = uuid5(NAMESPACE_URL, "https://rentbook.dev/reminders")


def reminder_id(booking_id: UUID, kind: str) -> UUID:
    return uuid5(_NAMESPACE, f"{booking_id}:{kind}")


class Reminder(Aggregate):
    @staticmethod
    def create_id(booking_id: UUID, kind: str, **_: Any) -> UUID:
        return reminder_id(booking_id, kind)

    @classmethod
    def issue(cls, booking_id: UUID, kind: str, due_at: datetime, at: datetime) -> Reminder:
        if kind not in REMINDER_KINDS:
            raise RuleViolation("bad_reminder", f"no reminder kind {kind!r}")
        return cls(booking_id=booking_id, kind=kind, due_at=due_at, at=at)

    @event("Issued")
    def __init__(self, booking_id: UUID, kind: str, due_at: datetime, at: datetime) -> None:
        self.booking_id = booking_id
        self.kind = kind
        self.due_at = due_at
        self.issued_at = at
