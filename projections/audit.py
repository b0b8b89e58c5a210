"""The audit index: one row per event across every stream, by actor, type and time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
)

from domain.event_meta import event_meta
from projections.base import Projection, upsert
from projections.listings import check_limit, log_order_page, rfc3339, utc

META = ("actor_id", "actor_role", "correlation_id", "causation_id", "request_id")


class AuditView(Projection):
    name = "audit"
    topics = ()  # every event
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        table = Table(
            f"audit{suffix}",
            metadata,
            Column("position", BigInteger, primary_key=True, autoincrement=False),
            Column("stream_id", Uuid, nullable=False, index=True),
            Column("version", Integer, nullable=False),
            Column("type", String(200), nullable=False),
            Column("topic", String(400), nullable=False),
            Column("actor_id", String(64)),
            Column("actor_role", String(20)),
            Column("correlation_id", String(64), index=True),
            Column("causation_id", String(64)),
            Column("request_id", String(64)),
            Column("recorded_at", DateTime(timezone=True), nullable=False, index=True),
        )
        Index(None, table.c.actor_id, table.c.position)
        Index(None, table.c.type, table.c.position)
        return {"audit": table}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        rows = [audit_row(event, position) for event, position in events]
        if not rows:
            return
        # One set-based insert; a replayed position is a no-op.
        upsert(conn, tables["audit"], rows, keep_existing=True)


def audit_row(event: Any, position: int) -> dict[str, Any]:
    cls = type(event)
    meta = event_meta(event)
    return {
        "position": position,
        "stream_id": event.originator_id,
        "version": event.originator_version,
        "type": cls.__qualname__,
        "topic": get_topic(cls),
        **{name: meta.get(name) or None for name in META},
        "recorded_at": utc(event.timestamp),
    }


def search_audit(
    conn: Connection,
    tables: Any,
    actor: str | None = None,
    type: str | None = None,
    frm: datetime | None = None,
    to: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Events in log order, filtered by actor id, type ("Booking.Confirmed") and recorded
    time in [frm, to)."""
    table = tables["audit"]
    limit = check_limit(limit)
    where = []
    if actor:
        where.append(table.c.actor_id == actor)
    if type:
        where.append(table.c.type == type)
    if frm is not None:
        where.append(table.c.recorded_at >= utc(frm))
    if to is not None:
        where.append(table.c.recorded_at < utc(to))
    rows, next_cursor = log_order_page(conn, table, where, limit, cursor)
    return [audit_public(r) for r in rows], next_cursor


def audit_public(row: Any) -> dict[str, Any]:
    return {
        "position": row["position"],
        "stream_id": str(row["stream_id"]),
        "version": row["version"],
        "type": row["type"],
        "topic": row["topic"],
        **{name: row[name] for name in META},
        "recorded_at": rfc3339(row["recorded_at"]),
    }
