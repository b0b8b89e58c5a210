"""Listings by status from the listings view: the admins' review queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from projections.listings import listing_public, newest_first_page


def listings_in_status(
    conn: Connection, tables: Any, status: str, limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Listings in `status` (e.g. `pending_review`), newest first."""
    table = tables["listings"]
    rows, next_cursor = newest_first_page(conn, table, [table.c.status == status], limit, cursor)
    return [listing_public(r) for r in rows], next_cursor
