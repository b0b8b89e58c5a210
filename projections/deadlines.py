"""The deadlines view: each booking's next pending deadline, for the scheduler.

One row per booking holding the instants it was placed with and the status it is in;
`kind`/`due_at` say which command falls due next (none once nothing is pending), and are
recomputed on every booking event together with the version the scheduler must act on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Engine, Integer, MetaData, String, Table, Uuid
from sqlalchemy import select as sa_select

from domain import booking as b
from domain.booking import Booking as _Booking
from domain.deadlines import COMPLETE, END, EXPIRE, START, Deadline, DeadlineSource
from projections.base import ViewTables
from projections.bookings import EVENTS, STATUS_AFTER, TOPICS
from projections.folding import RowPerAggregate
from projections.listings import parse_instant, utc

# @event classes are made at runtime, where mypy cannot see them.
Booking: Any = _Booking

# status -> (kind of the pending deadline, the instant it falls due)
PENDING: dict[str, tuple[str, str]] = {
    b.PENDING_OWNER_APPROVAL: (EXPIRE, "expires_at"),
    b.PENDING_PAYMENT: (EXPIRE, "expires_at"),
    b.CONFIRMED: (START, "start_at"),
    b.IN_PROGRESS: (END, "end_at"),
    b.AWAITING_RETURN_INSPECTION: (COMPLETE, "inspection_ends_at"),
}


class DeadlinesView(RowPerAggregate):
    row_table = "deadlines"
    row_events = EVENTS
    row_key = "booking_id"
    row_newer = "booking_version"
    name = "deadlines"
    topics = TOPICS
    reads_personal = frozenset[str]()  # ids, instants and statuses only
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        table = Table(
            f"deadlines{suffix}",
            metadata,
            Column("booking_id", Uuid, primary_key=True),
            Column("booking_version", Integer, nullable=False),
            Column("status", String(40), nullable=False),
            Column("kind", String(20)),
            Column("due_at", DateTime(timezone=True), index=True),
            Column("expires_at", DateTime(timezone=True)),
            Column("start_at", DateTime(timezone=True), nullable=False),
            Column("end_at", DateTime(timezone=True), nullable=False),
            Column("inspection_ends_at", DateTime(timezone=True)),
        )
        return {"deadlines": table}

    def fold(self, row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
        return apply(row, event)


def apply(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    version = event.originator_version
    if isinstance(event, Booking.Placed):
        if row is not None:
            return None
        row = {
            "booking_id": event.originator_id,
            "status": event.status,
            "expires_at": parse_instant(event.expires_at),
            "start_at": parse_instant(event.start_at),
            "end_at": parse_instant(event.end_at),
            "inspection_ends_at": None,
        }
    elif row is None or row["booking_version"] >= version:
        return None
    else:
        row = dict(row)
        if isinstance(event, Booking.Approved):
            row["expires_at"] = parse_instant(event.expires_at)
        elif isinstance(event, Booking.Confirmed):
            row["expires_at"] = None
        elif isinstance(event, Booking.Ended):
            row["inspection_ends_at"] = parse_instant(event.inspection_ends_at)
        row["status"] = STATUS_AFTER.get(type(event), row["status"])
    kind, field = PENDING.get(row["status"], (None, None))
    due_at = row[field] if field else None
    row.update(booking_version=version, kind=kind if due_at else None, due_at=due_at)
    return row


# -- queries -------------------------------------------------------------------------------


def due(conn: Connection, tables: Any, at: datetime, limit: int = 200) -> list[Deadline]:
    """Deadlines due at or before `at`, oldest first."""
    table = tables["deadlines"]
    stmt = (
        sa_select(table)
        .where(table.c.due_at.is_not(None), table.c.due_at <= at)
        .order_by(table.c.due_at, table.c.booking_id)
        .limit(limit)
    )
    out = []
    for row in conn.execute(stmt).mappings():
        due_at = utc(row["due_at"])
        assert due_at is not None
        out.append(Deadline(row["booking_id"], row["kind"], due_at, row["booking_version"]))
    return out


class ViewDeadlineSource(DeadlineSource):
    """The scheduler's `DeadlineSource`, read from the deadlines view."""

    def __init__(self, engine: Engine, tables: Any | None = None) -> None:
        self.engine = engine
        self.tables = tables if tables is not None else ViewTables(DeadlinesView())

    def due(self, at: datetime, limit: int) -> list[Deadline]:
        with self.engine.connect() as conn:
            return due(conn, self.tables, at, limit)
