"""Reminders as deadlines: which bookings are due a reminder now, read from the deadlines
view (status and instants per booking) minus the reminders already issued (kept by the
notifications view).

Each reminder has a window [due, until): a reminder is only worth sending before the thing
it reminds of (the hold's expiry, the request's expiry, the check-in) or while reviews can
still be written. Outside its window it is never due, so one the scheduler skipped (the
booking moved on) does not sit at the head of the queue for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, select

from domain import booking as b
from domain.deadlines import Deadline, DeadlineSource
from domain.review import REVIEW_WINDOW
from projections.base import ViewTables
from projections.deadlines import DeadlinesView
from projections.listings import utc
from projections.notifications import NotificationsView

HOLD_LEAD = timedelta(minutes=5)  # before an unpaid hold expires
REQUEST_LEAD = timedelta(hours=12)  # before a request the owner has not answered expires
CHECKIN_LEAD = timedelta(hours=24)  # "check-in tomorrow"
ENDED = (b.AWAITING_RETURN_INSPECTION, b.COMPLETED, b.SETTLED)

# kind -> (statuses, column the window ends at, lead before it | None for "from end_at")
WINDOWS: dict[str, tuple[tuple[str, ...], str, timedelta | None]] = {
    "hold_expiring": ((b.PENDING_PAYMENT,), "expires_at", HOLD_LEAD),
    "request_awaiting_answer": ((b.PENDING_OWNER_APPROVAL,), "expires_at", REQUEST_LEAD),
    "checkin_tomorrow": ((b.CONFIRMED,), "start_at", CHECKIN_LEAD),
    "review_request": (ENDED, "end_at", None),
}


def due_reminders(
    conn: Connection, deadlines: Any, notifications: Any, at: datetime, limit: int
) -> list[Deadline]:
    """Reminders due at `at` and not issued yet, oldest first (kind = the reminder kind)."""
    d, issued = deadlines["deadlines"], notifications["reminders"]
    found: list[Deadline] = []
    for kind, (statuses, column, lead) in WINDOWS.items():
        edge = d.c[column]
        if lead is None:  # from the end of the stay until the review window closes
            window = and_(edge <= at, edge > at - REVIEW_WINDOW)
        else:
            window = and_(edge <= at + lead, edge > at)
        done = exists().where(issued.c.booking_id == d.c.booking_id, issued.c.kind == kind)
        stmt = (
            select(d.c.booking_id, d.c.booking_version, edge.label("edge"))
            .where(d.c.status.in_(statuses), edge.is_not(None), window, ~done)
            .order_by(edge, d.c.booking_id)
            .limit(limit)
        )
        for row in conn.execute(stmt).mappings():
            edge_at = utc(row["edge"])
            assert edge_at is not None
            due_at = edge_at if lead is None else edge_at - lead
            found.append(Deadline(row["booking_id"], kind, due_at, row["booking_version"]))
    found.sort(key=lambda x: x.due_at)
    return found[:limit]


class ViewReminderSource(DeadlineSource):
    def __init__(self, engine: Engine, deadlines: Any = None, notifications: Any = None) -> None:
        self.engine = engine
        self.deadlines = deadlines if deadlines is not None else ViewTables(DeadlinesView())
        self.notifications = (
            notifications if notifications is not None else ViewTables(NotificationsView())
        )

    def due(self, at: datetime, limit: int) -> list[Deadline]:
        with self.engine.connect() as conn:
            return due_reminders(conn, self.deadlines, self.notifications, at, limit)
