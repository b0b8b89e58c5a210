"""The listings view: one row per listing, as its owner and the catalog see it.

Also home to the small helpers the other views share (keyset cursors, loading the rows a
page touches, instants as RFC 3339).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Double,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    and_,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from domain.errors import RuleViolation
from domain.listing import (
    ACTIVE,
    INACTIVE,
    PENDING_REVIEW,
    REJECTED,
    SUSPENDED,
)
from domain.listing import (
    Listing as _Listing,
)
from domain.media import media_urls
from projections.folding import RowPerAggregate

# @event classes are made at runtime, where mypy cannot see them.
Listing: Any = _Listing

JSONType = JSON().with_variant(JSONB(), "postgresql")
MAX_LIMIT = 100

# -- helpers shared by the views ---------------------------------------------------------


def utc(value: datetime | None) -> datetime | None:
    """Aware UTC (SQLite hands back naive datetimes; we only ever store UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rfc3339(value: datetime | None) -> str | None:
    at = utc(value)
    return None if at is None else at.isoformat().replace("+00:00", "Z")


def parse_instant(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return utc(value)
    return utc(datetime.fromisoformat(str(value)))


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise RuleViolation("bad_cursor", "the cursor is not one this API issued") from None
    if not isinstance(values, list) or len(values) != size:
        raise RuleViolation("bad_cursor", "the cursor is not one this API issued")
    return [str(v) for v in values]


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise RuleViolation("bad_limit", f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def newest_first_page(
    conn: Connection,
    table: Table,
    where: list[Any],
    limit: int,
    cursor: str | None,
    *,
    at: str = "created_at",
) -> tuple[list[Any], str | None]:
    """Rows newest first by (`at`, id), keyset-paginated."""
    limit = check_limit(limit)
    at_col, id_col = table.c[at], table.c.id
    if cursor:
        when, ident = decode_cursor(cursor, 2)
        try:
            after = (datetime.fromisoformat(when), UUID(ident))
        except ValueError:
            raise RuleViolation("bad_cursor", "the cursor is not one this API issued") from None
        where = [*where, or_(at_col < after[0], and_(at_col == after[0], id_col < after[1]))]
    stmt = select(table).where(*where).order_by(at_col.desc(), id_col.desc()).limit(limit + 1)
    rows = list(conn.execute(stmt).mappings())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(utc(last[at]), last["id"])


def log_order_page(
    conn: Connection, table: Table, where: list[Any], limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """Rows in log order by their `position` column, keyset-paginated."""
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        # ASCII digits only ("²".isdigit() is true), and within a BIGINT.
        if not (after.isascii() and after.isdigit() and len(after) <= 18):
            raise RuleViolation("bad_cursor", "the cursor is not one this API issued")
        where = [*where, table.c.position > int(after)]
    stmt = select(table).where(*where).order_by(table.c.position).limit(limit + 1)
    rows = list(conn.execute(stmt).mappings())
    next_cursor = encode_cursor(rows[limit - 1]["position"]) if len(rows) > limit else None
    return rows[:limit], next_cursor


# -- the view ------------------------------------------------------------------------------

STATUS_AFTER: dict[type, str] = {
    Listing.Submitted: PENDING_REVIEW,
    Listing.Approved: ACTIVE,
    Listing.Rejected: REJECTED,
    Listing.Deactivated: INACTIVE,
    Listing.Activated: ACTIVE,
    Listing.Suspended: SUSPENDED,
}
EVENTS = (
    Listing.Created,
    Listing.Updated,
    Listing.PriceOverrideSet,
    Listing.PriceOverrideCleared,
    *STATUS_AFTER,
)


class ListingsView(RowPerAggregate):
    row_table = "listings"
    row_events = EVENTS
    name = "listings"
    topics = tuple(get_topic(cls) for cls in EVENTS)
    version = 2  # 2: specs rebuilt through Listing's v1→v2 upcast (both grace hours)

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        listings = Table(
            f"listings{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("owner_id", Uuid, nullable=False, index=True),
            Column("status", String(20), nullable=False, index=True),
            Column("title", String(200), nullable=False),
            Column("category", String(20), nullable=False),
            Column("city", String(120), nullable=False),
            Column("country", String(2), nullable=False),
            Column("lat", Double, nullable=False),
            Column("lng", Double, nullable=False),
            Column("booking_unit", String(10), nullable=False),
            Column("base_amount", BigInteger, nullable=False),
            Column("currency", String(3), nullable=False),
            Column("quantity", Integer, nullable=False),
            Column("capacity", Integer, nullable=False),
            Column("booking_mode", String(10), nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
            Column("spec", JSONType, nullable=False),
            Column("price_overrides", JSONType, nullable=False),
        )
        return {"listings": listings}

    def fold(self, row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
        return apply(row, event)


def apply(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    """The listing's row after `event`; None when the event is already in (a replay)."""
    version = event.originator_version
    if isinstance(event, Listing.Created):
        if row is not None:
            return None
        at = utc(event.at)
        row = {"id": event.originator_id, "owner_id": event.owner_id}
        row.update(status="draft", created_at=at, price_overrides={})
        return {**row, **_from_spec(event.spec), "version": version, "updated_at": at}
    if row is None or row["version"] >= version:
        return None
    row = {**row, "version": version, "updated_at": utc(event.at)}
    if isinstance(event, Listing.Updated):
        row.update(_from_spec({**row["spec"], **event.changes}))
    elif isinstance(event, Listing.PriceOverrideSet):
        row["price_overrides"] = {**row["price_overrides"], event.day: event.amount}
    elif isinstance(event, Listing.PriceOverrideCleared):
        overrides = dict(row["price_overrides"])
        overrides.pop(event.day, None)
        row["price_overrides"] = overrides
    else:
        row["status"] = STATUS_AFTER[type(event)]
    return row


def _from_spec(spec: dict[str, Any]) -> dict[str, Any]:
    loc, base = spec["location"], spec["pricing"]["base"]
    return {
        "spec": spec,
        "title": spec["title"],
        "category": spec["category"],
        "city": loc["city"],
        "country": loc["country"],
        "lat": loc["lat"],
        "lng": loc["lng"],
        "booking_unit": spec["booking_unit"],
        "base_amount": base["amount"],
        "currency": base["currency"],
        "quantity": spec["quantity"],
        "capacity": spec["capacity"],
        "booking_mode": spec["booking_mode"],
    }


# -- queries -------------------------------------------------------------------------------


def listing_public(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "version": row["version"],
        "owner_id": str(row["owner_id"]),
        "status": row["status"],
        "title": row["title"],
        "category": row["category"],
        "city": row["city"],
        "country": row["country"],
        "lat": row["lat"],
        "lng": row["lng"],
        "booking_unit": row["booking_unit"],
        "base_price": {"amount": row["base_amount"], "currency": row["currency"]},
        "quantity": row["quantity"],
        "capacity": row["capacity"],
        "booking_mode": row["booking_mode"],
        "created_at": rfc3339(row["created_at"]),
        "updated_at": rfc3339(row["updated_at"]),
        "spec": row["spec"],
        "price_overrides": dict(sorted(row["price_overrides"].items())),
        "photos": [{"id": p, "urls": media_urls(p)} for p in row["spec"].get("photos", [])],
        "cover_photo_id": row["spec"].get("cover_photo_id"),
    }


def get_listing(conn: Connection, tables: Any, listing_id: UUID) -> dict[str, Any] | None:
    table = tables["listings"]
    row = conn.execute(select(table).where(table.c.id == listing_id)).mappings().first()
    return listing_public(row) if row else None


def list_owner_listings(
    conn: Connection, tables: Any, owner_id: UUID, limit: int = 20, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    table = tables["listings"]
    rows, next_cursor = newest_first_page(
        conn, table, [table.c.owner_id == owner_id], limit, cursor
    )
    return [listing_public(r) for r in rows], next_cursor
