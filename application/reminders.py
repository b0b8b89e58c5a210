"""Reminder deadlines: the scheduler's handlers that record a `Reminder` when one is due.

The reminder's id is derived from (booking, kind), so recording it twice fails in the event
store (version 1 exists): however many scheduler runs or processes find it due, it is issued
once, and the notifications projection turns that one event into the notifications.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from eventsourcing.persistence import IntegrityError

from application.bookings import Bookings
from domain import booking as b
from domain.deadlines import Deadline
from domain.reminders import Reminder

# The booking must still be in one of these when the reminder is recorded (the view the
# deadline came from may lag behind it).
STILL: dict[str, tuple[str, ...]] = {
    "hold_expiring": (b.PENDING_PAYMENT,),
    "request_awaiting_answer": (b.PENDING_OWNER_APPROVAL,),
    "checkin_tomorrow": (b.CONFIRMED,),
    "review_request": (b.AWAITING_RETURN_INSPECTION, b.COMPLETED, b.SETTLED),
}


def reminder_handlers(bookings: Bookings) -> dict[str, Callable[[Deadline, datetime], int]]:
    def issue(deadline: Deadline, at: datetime) -> int:
        booking = bookings.get(deadline.booking_id)
        if booking.status not in STILL[deadline.kind]:
            return 0
        reminder = Reminder.issue(deadline.booking_id, deadline.kind, deadline.due_at, at)
        try:
            return bookings.store.record(reminder)
        except IntegrityError:
            return 0  # issued already (another run or process got there first)

    return dict.fromkeys(STILL, issue)
