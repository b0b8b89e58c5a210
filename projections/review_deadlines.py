"""The review deadlines view: one row per booking's reviews, with the instant their window
closes while something waits to be published (none once published), for the scheduler.

A row per aggregate rather than a column on the bookings' deadlines row: the review window
runs beside the booking's own deadlines (inspection, payout) and belongs to another
aggregate, with its own version for the scheduler's `if_version`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, Table, Uuid, select

from domain.review import BookingReviews as _BookingReviews
from projections.folding import RowPerAggregate
from projections.listings import parse_instant, utc

# @event classes are made at runtime, where mypy cannot see them.
BookingReviews: Any = _BookingReviews

EVENTS = (
    BookingReviews.Opened,
    BookingReviews.Submitted,
    BookingReviews.Published,
    BookingReviews.Replied,
    BookingReviews.Hidden,
)


class ReviewDeadlinesView(RowPerAggregate):
    row_table = "review_deadlines"
    row_events = EVENTS
    name = "review_deadlines"
    topics = tuple(get_topic(cls) for cls in EVENTS)
    reads_personal = frozenset[str]()  # ids and windows: no comment or reply
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        table = Table(
            f"review_deadlines{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("booking_id", Uuid, nullable=False),
            Column("due_at", DateTime(timezone=True), index=True),
        )
        return {"review_deadlines": table}

    def fold(self, row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
        version = event.originator_version
        if isinstance(event, BookingReviews.Opened):
            if row is not None:
                return None
            return {
                "id": event.originator_id,
                "version": version,
                "booking_id": event.booking_id,
                "due_at": parse_instant(event.window_closes_at),
            }
        if row is None or row["version"] >= version:
            return None
        row = {**row, "version": version}
        if isinstance(event, BookingReviews.Published):
            row["due_at"] = None
        return row


def due_publications(
    conn: Connection, tables: Any, at: datetime, limit: int
) -> list[tuple[Any, datetime, int]]:
    """(booking id, due at, reviews version) of windows closed at or before `at`, oldest
    first."""
    table = tables["review_deadlines"]
    stmt = (
        select(table)
        .where(table.c.due_at.is_not(None), table.c.due_at <= at)
        .order_by(table.c.due_at, table.c.id)
        .limit(limit)
    )
    out = []
    for row in conn.execute(stmt).mappings():
        due_at = utc(row["due_at"])
        assert due_at is not None
        out.append((row["booking_id"], due_at, row["version"]))
    return out
