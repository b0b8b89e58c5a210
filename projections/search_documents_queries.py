"""Reading the search documents view: rows changed since a position, or all of them, each
with its fully-blocked keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, and_, or_, select

from domain.search_documents import Horizon
from projections.folding import chunks

CHUNK = 1000  # listing ids per IN (...) query


def changed_since(
    conn: Connection, tables: Any, position: int, limit: int, horizon: Horizon | None = None
) -> list[dict[str, Any]]:
    """Rows changed after `position`, lowest position first, with their blocked keys
    (within `horizon`, or all of them)."""
    docs = tables["documents"]
    stmt = select(docs).where(docs.c.position > position).order_by(docs.c.position).limit(limit)
    return _with_blocked_keys(conn, tables, stmt, horizon)


def all_rows(
    conn: Connection, tables: Any, after_id: UUID | None, limit: int, horizon: Horizon | None = None
) -> list[dict[str, Any]]:
    """Every row in id order, a page after `after_id` at a time."""
    docs = tables["documents"]
    stmt = select(docs).order_by(docs.c.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(docs.c.id > after_id)
    return _with_blocked_keys(conn, tables, stmt, horizon)


def blocked_keys(
    conn: Connection, tables: Any, listing_ids: Iterable[UUID], horizon: Horizon | None = None
) -> dict[UUID, list[int]]:
    """Each listing's fully-blocked keys, ascending."""
    keys_t, cals = tables["keys"], tables["calendars"]
    out: dict[UUID, list[int]] = defaultdict(list)
    for chunk in chunks(listing_ids, CHUNK):
        stmt = (
            select(keys_t.c.listing_id, keys_t.c.key)
            .join(cals, cals.c.listing_id == keys_t.c.listing_id)
            .where(
                keys_t.c.listing_id.in_(chunk),
                or_(keys_t.c.blocked > 0, keys_t.c.used >= cals.c.units),
            )
            .order_by(keys_t.c.listing_id, keys_t.c.key)
        )
        if horizon is not None:
            (n0, n1), (h0, h1) = horizon.nights, horizon.hours
            stmt = stmt.where(
                or_(
                    and_(cals.c.step == 1, keys_t.c.key >= n0, keys_t.c.key < n1),
                    and_(cals.c.step != 1, keys_t.c.key >= h0, keys_t.c.key < h1),
                )
            )
        for lid, key in conn.execute(stmt):
            out[lid].append(key)
    return out


def _with_blocked_keys(
    conn: Connection, tables: Any, stmt: Any, horizon: Horizon | None
) -> list[dict[str, Any]]:
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    keys = blocked_keys(conn, tables, [r["id"] for r in rows if not r["deleted"]], horizon)
    for row in rows:
        row["blocked_keys"] = keys.get(row["id"], [])
    return rows
