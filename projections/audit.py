"""The audit index: one row per event across every stream, by actor, type and time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
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

from domain.event_meta import META_KEY
from projections.base import Projection, upsert
from projections.listings import check_limit, log_order_page, rfc3339, utc
from projections.stored import meta_in, state_of, stream_of, timestamp_in

META = ("actor_id", "actor_role", "correlation_id", "causation_id", "request_id")


class AuditView(Projection):
    name = "audit"
    topics = ()  # every event
    version = 2  # 2: the context ids widened to 128 (an X-Request-ID may be that long)
    reads_personal = frozenset[str]()  # the log's columns, the time and the context
    reads_stored = True  # its row is the log's columns, the time and the command context

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
            # A client's X-Request-ID (at most 128 characters, else replaced) becomes the
            # request and correlation ids of the events it records.
            Column("correlation_id", String(128), index=True),
            Column("causation_id", String(128)),
            Column("request_id", String(128)),
            Column("recorded_at", DateTime(timezone=True), nullable=False, index=True),
        )
        Index(None, table.c.actor_id, table.c.position)
        Index(None, table.c.type, table.c.position)
        return {"audit": table}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        rows = [
            stored_audit_row(event, position)
            if isinstance(event, StoredEvent)
            else audit_row(event, position)
            for event, position in events
        ]
        if not rows:
            return
        # One set-based insert; a replayed position is a no-op.
        upsert(conn, tables["audit"], rows, keep_existing=True)


def audit_row(event: Any, position: int) -> dict[str, Any]:
    # Per event only attribute reads: the names come from a per-class cache and the meta dict
    # is read in place (event_meta copies it), as every log event passes here on a rebuild.
    cls = type(event)
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = (cls.__qualname__, get_topic(cls))
    meta = getattr(event, META_KEY, None)
    get = meta.get if isinstance(meta, dict) else _no_meta
    at = event.timestamp
    return _row(position, event.originator_id, event.originator_version, names, get, at)


_NAMES: dict[type, tuple[str, str]] = {}


def stored_audit_row(note: StoredEvent, position: int) -> dict[str, Any]:
    """`audit_row` of the decoded event, read from its stored JSON (the time and `_meta`,
    which the library and the store write and no upcaster changes)."""
    names = _TOPIC_NAMES.get(note.topic)
    if names is None:
        cls = resolve_topic(note.topic)  # a renamed topic reads as its class's current one
        names = _TOPIC_NAMES[note.topic] = (cls.__qualname__, get_topic(cls))
    state = state_of(note)
    get = meta_in(state).get
    at = timestamp_in(state)
    if at is None:
        raise ValueError(f"stored event {note.topic} at {position} has no timestamp")
    return _row(position, stream_of(note), note.originator_version, names, get, at)


_TOPIC_NAMES: dict[str, tuple[str, str]] = {}


def _row(
    position: int,
    stream_id: Any,
    version: int,
    names: tuple[str, str],
    get: Callable[[str], Any],
    at: datetime,
) -> dict[str, Any]:
    """One audit row, from a decoded event or its stored JSON alike."""
    return {
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "type": names[0],
        "topic": names[1],
        "actor_id": get("actor_id") or None,
        "actor_role": get("actor_role") or None,
        "correlation_id": get("correlation_id") or None,
        "causation_id": get("causation_id") or None,
        "request_id": get("request_id") or None,
        "recorded_at": at if at.tzinfo is UTC else utc(at),
    }


def _no_meta(name: str) -> None:
    return None


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
