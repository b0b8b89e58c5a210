"""The calendar feeds view: one row per external iCal feed of a listing, with what its owner
needs to see (last fetch, status, error, conflicts) and when it is next due, for the
scheduler. Rows carry the feed's version, so a replayed event changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    select,
)

from domain.calendar_feed import CalendarFeed as _CalendarFeed
from projections.folding import RowPerAggregate
from projections.listings import JSONType, parse_instant, rfc3339, utc

# @event classes are made at runtime, where mypy cannot see them.
CalendarFeed: Any = _CalendarFeed

EVENTS = (
    CalendarFeed.Added,
    CalendarFeed.Synced,
    CalendarFeed.Checked,
    CalendarFeed.Failed,
    CalendarFeed.Removed,
)


class CalendarFeedsView(RowPerAggregate):
    row_table = "calendar_feeds"
    row_events = EVENTS
    name = "calendar_feeds"
    topics = tuple(get_topic(cls) for cls in EVENTS)
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        table = Table(
            f"calendar_feeds{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("listing_id", Uuid, nullable=False, index=True),
            Column("url", Text, nullable=False),
            Column("name", String(200), nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("removed", Boolean, nullable=False),
            Column("status", String(20), nullable=False),
            Column("last_error", Text),
            Column("last_fetch_at", DateTime(timezone=True)),
            Column("last_success_at", DateTime(timezone=True)),
            Column("next_fetch_at", DateTime(timezone=True), index=True),
            Column("event_count", Integer, nullable=False),
            Column("block_count", Integer, nullable=False),
            Column("conflicts", JSONType, nullable=False),
        )
        return {"calendar_feeds": table}

    def fold(self, row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
        version, at = event.originator_version, parse_instant(event.at)
        if isinstance(event, CalendarFeed.Added):
            if row is not None:
                return None
            return {
                "id": event.originator_id,
                "version": version,
                "listing_id": event.listing_id,
                "url": event.url,
                "name": event.name,
                "created_at": at,
                "removed": False,
                "status": "pending",
                "last_error": None,
                "last_fetch_at": None,
                "last_success_at": None,
                "next_fetch_at": at,
                "event_count": 0,
                "block_count": 0,
                "conflicts": [],
            }
        if row is None or row["version"] >= version:
            return None
        row = {**row, "version": version}
        if isinstance(event, CalendarFeed.Removed):
            row.update(removed=True, next_fetch_at=None, block_count=0)
            return row
        row["last_fetch_at"] = at
        row["next_fetch_at"] = parse_instant(event.next_fetch_at)
        if isinstance(event, CalendarFeed.Failed):
            row.update(status="error", last_error=event.error)
            return row
        row.update(last_success_at=at, last_error=None)
        if isinstance(event, CalendarFeed.Checked):
            row["status"] = event.status
        else:
            row.update(
                status="ok",
                event_count=event.event_count,
                block_count=len(event.blocks),
                conflicts=list(event.conflicts),
            )
        return row


def feed_public(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "listing_id": str(row["listing_id"]),
        "url": row["url"],
        "name": row["name"],
        "created_at": rfc3339(row["created_at"]),
        "status": row["status"],
        "last_error": row["last_error"],
        "last_fetch_at": rfc3339(row["last_fetch_at"]),
        "last_success_at": rfc3339(row["last_success_at"]),
        "next_fetch_at": rfc3339(row["next_fetch_at"]),
        "event_count": row["event_count"],
        "block_count": row["block_count"],
        "conflicts": list(row["conflicts"]),
    }


def listing_feeds(conn: Connection, tables: Any, listing_id: UUID) -> list[dict[str, Any]]:
    """A listing's live feeds, oldest first."""
    table = tables["calendar_feeds"]
    stmt = (
        select(table)
        .where(table.c.listing_id == listing_id, table.c.removed.is_(False))
        .order_by(table.c.created_at, table.c.id)
    )
    return [feed_public(r) for r in conn.execute(stmt).mappings()]


def due_feeds(
    conn: Connection, tables: Any, at: datetime, limit: int
) -> list[tuple[UUID, datetime, int]]:
    """(feed id, due at, feed version) of live feeds due at or before `at`, oldest first."""
    table = tables["calendar_feeds"]
    stmt = (
        select(table.c.id, table.c.next_fetch_at, table.c.version)
        .where(table.c.next_fetch_at.is_not(None), table.c.next_fetch_at <= at)
        .order_by(table.c.next_fetch_at, table.c.id)
        .limit(limit)
    )
    out = []
    for row in conn.execute(stmt):
        due_at = utc(row.next_fetch_at)
        assert due_at is not None
        out.append((row.id, due_at, row.version))
    return out
