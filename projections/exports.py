"""Rows for the CSV exports, read in keyset pages: each page is one short query on its own
connection (no transaction held open while the client reads, no OFFSET rescans), so a
month of 100k rows streams in constant memory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Table, and_, or_, select

from projections.listings import utc

PAGE = 2000
# What a bookings export shows (not the check-in reports: JSON to decode for nothing).
BOOKING_COLUMNS = (
    *("id", "listing_id", "owner_id", "renter_id", "status", "unit", "start", "end"),
    *("quantity", "guests", "total_amount", "currency", "created_at", "updated_at"),
)


def _keyset(
    engine: Engine,
    table: Table,
    where: list[Any],
    order: tuple[str, ...],
    page: int,
    columns: tuple[str, ...] = (),
) -> Iterator[list[dict[str, Any]]]:
    """Pages of the rows of `table` matching `where` (only `columns`, default all),
    ascending by the `order` columns (unique together)."""
    cols = [table.c[name] for name in order]
    selected = [table.c[name] for name in columns] if columns else [table]
    after: tuple[Any, ...] | None = None
    while True:
        conditions = list(where)
        if after is not None:
            conditions.append(_after(cols, after))
        stmt = select(*selected).where(*conditions).order_by(*cols).limit(page)
        with engine.connect() as conn:
            result = conn.execute(stmt)
            keys = list(result.keys())  # once per page: a mapping per row costs more
            rows = [dict(zip(keys, row, strict=True)) for row in result]
        if rows:
            yield rows
        if len(rows) < page:
            return
        after = tuple(rows[-1][name] for name in order)


def _after(cols: list[Any], values: tuple[Any, ...]) -> Any:
    """(c1, c2, ...) > (v1, v2, ...) spelled out, which both SQLite and PostgreSQL index."""
    first, *rest = cols
    if not rest:
        return first > values[0]
    return or_(first > values[0], and_(first == values[0], _after(rest, values[1:])))


def _created_between(table: Table, frm: datetime | None, to: datetime | None) -> list[Any]:
    where = []
    if frm is not None:
        where.append(table.c.created_at >= utc(frm))
    if to is not None:
        where.append(table.c.created_at < utc(to))
    return where


def bookings(
    engine: Engine,
    tables: Any,
    listings: Table,
    *,
    owner_id: UUID | None = None,
    renter_id: UUID | None = None,
    frm: datetime | None = None,
    to: datetime | None = None,
    page: int = PAGE,
) -> Iterator[dict[str, Any]]:
    """Bookings placed in [frm, to), oldest first: an owner's, a renter's, or all; each with
    its listing's title from `listings` (the analytics view's listings table)."""
    table = tables["bookings"]
    where = _created_between(table, frm, to)
    if owner_id is not None:
        where.append(table.c.owner_id == owner_id)
    if renter_id is not None:
        where.append(table.c.renter_id == renter_id)
    for rows in _keyset(engine, table, where, ("created_at", "id"), page, BOOKING_COLUMNS):
        yield from _with_titles(engine, listings, rows)


def _with_titles(
    engine: Engine, listings: Table, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The page's rows with their listing's title (one query per page)."""
    ids = {r["listing_id"] for r in rows}
    stmt = select(listings.c.listing_id, listings.c.title).where(listings.c.listing_id.in_(ids))
    with engine.connect() as conn:
        titles = {listing_id: title for listing_id, title in conn.execute(stmt)}
    return [{**r, "listing_title": titles.get(r["listing_id"], "")} for r in rows]


def payouts(
    engine: Engine, tables: Any, owner_id: UUID, *, page: int = PAGE
) -> Iterator[dict[str, Any]]:
    """An owner's bookings' money (the payments view), by booking id."""
    table = tables["payments"]
    for rows in _keyset(engine, table, [table.c.owner_id == owner_id], ("booking_id",), page):
        yield from rows


def ledger_postings(
    engine: Engine,
    tables: Any,
    *,
    frm: datetime | None = None,
    to: datetime | None = None,
    page: int = PAGE,
) -> Iterator[dict[str, Any]]:
    """Every posting of the journal entries recorded in [frm, to), in log order: one row per
    posting with its entry's id, position, time, booking and source."""
    table = tables["entries"]
    where = []
    if frm is not None:
        where.append(table.c.at >= utc(frm))
    if to is not None:
        where.append(table.c.at < utc(to))
    for rows in _keyset(engine, table, where, ("position",), page):
        for entry in rows:
            for line, posting in enumerate(entry["postings"]):
                yield {**entry, "line": line, **posting}
