"""The wishlists view: one row per wishlist (its listings in the order added) and one row per
(wishlist, listing) item, indexed by (user, listing) so search can mark a page's hits
`in_wishlist` with one query.

Rows carry the wishlist's version: a replayed event changes nothing. A changed wishlist's
items are rewritten from its row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    delete,
    select,
)

from domain.media import media_url
from domain.wishlist import Wishlist as _Wishlist
from projections.base import Projection, upsert
from projections.folding import chunks, load_rows
from projections.listings import JSONType, newest_first_page, parse_instant, rfc3339

# @event classes are made at runtime, where mypy cannot see them.
Wishlist: Any = _Wishlist

EVENTS = (
    Wishlist.Created,
    Wishlist.Renamed,
    Wishlist.ListingAdded,
    Wishlist.ListingRemoved,
    Wishlist.Shared,
    Wishlist.Unshared,
    Wishlist.Deleted,
)


class WishlistsView(Projection):
    name = "wishlists"
    topics = tuple(get_topic(cls) for cls in EVENTS)
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        wishlists = Table(
            f"wishlists{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("owner_id", Uuid, nullable=False),
            Column("name", String(200), nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
            Column("share_generation", Integer, nullable=False),
            Column("shared", Boolean, nullable=False),
            Column("deleted", Boolean, nullable=False),
            Column("listings", JSONType, nullable=False),  # [[listing id, added at], ...]
        )
        Index(None, wishlists.c.owner_id, wishlists.c.created_at, wishlists.c.id)
        items = Table(
            f"wishlist_items{suffix}",
            metadata,
            Column("wishlist_id", Uuid, primary_key=True),
            Column("listing_id", Uuid, primary_key=True),
            Column("owner_id", Uuid, nullable=False),
        )
        Index(None, items.c.owner_id, items.c.listing_id)
        return {"wishlists": wishlists, "items": items}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        ours: list[Any] = [e for e, _ in events if isinstance(e, EVENTS)]
        if not ours:
            return
        table, items = tables["wishlists"], tables["items"]
        rows = load_rows(conn, table, {e.originator_id for e in ours})
        changed: dict[UUID, dict[str, Any]] = {}
        for event in ours:
            row = fold(rows.get(event.originator_id), event)
            if row is not None:
                rows[event.originator_id] = changed[event.originator_id] = row
        if not changed:
            return
        upsert(conn, table, changed.values(), newer="version")
        for ids in chunks(changed, 500):
            conn.execute(delete(items).where(items.c.wishlist_id.in_(ids)))
        new_items = [
            {"wishlist_id": row["id"], "listing_id": UUID(listing), "owner_id": row["owner_id"]}
            for row in changed.values()
            if not row["deleted"]
            for listing, _ in row["listings"]
        ]
        if new_items:
            conn.execute(items.insert(), new_items)


def fold(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    """The wishlist's row after `event`; None when it was applied already."""
    version, at = event.originator_version, parse_instant(event.at)
    if isinstance(event, Wishlist.Created):
        if row is not None:
            return None
        return {
            "id": event.originator_id,
            "version": version,
            "owner_id": event.owner_id,
            "name": event.name,
            "created_at": at,
            "updated_at": at,
            "share_generation": 0,
            "shared": False,
            "deleted": False,
            "listings": [],
        }
    if row is None or row["version"] >= version:
        return None
    row = {**row, "version": version, "updated_at": at}
    if isinstance(event, Wishlist.Renamed):
        row["name"] = event.name
    elif isinstance(event, Wishlist.ListingAdded):
        row["listings"] = [*row["listings"], [str(event.listing_id), rfc3339(at)]]
    elif isinstance(event, Wishlist.ListingRemoved):
        gone = str(event.listing_id)
        row["listings"] = [item for item in row["listings"] if item[0] != gone]
    elif isinstance(event, Wishlist.Shared):
        row.update(share_generation=event.generation, shared=True)
    elif isinstance(event, Wishlist.Unshared):
        row["shared"] = False
    elif isinstance(event, Wishlist.Deleted):
        row.update(deleted=True, shared=False)
    return row


# -- queries -------------------------------------------------------------------------------


def list_user_wishlists(
    conn: Connection, tables: Any, owner_id: UUID, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The user's wishlists, newest first."""
    table = tables["wishlists"]
    where = [table.c.owner_id == owner_id, table.c.deleted.is_(False)]
    rows, next_cursor = newest_first_page(conn, table, where, limit, cursor)
    return [dict(r) for r in rows], next_cursor


def get_wishlist_row(conn: Connection, tables: Any, wishlist_id: UUID) -> dict[str, Any] | None:
    table = tables["wishlists"]
    row = conn.execute(select(table).where(table.c.id == wishlist_id)).mappings().first()
    return dict(row) if row is not None and not row["deleted"] else None


def wishlisted(
    conn: Connection, tables: Any, owner_id: UUID, listing_ids: Iterable[UUID]
) -> set[UUID]:
    """Which of `listing_ids` are in any of the user's wishlists: one indexed query."""
    ids = list(set(listing_ids))
    if not ids:
        return set()
    items = tables["items"]
    stmt = (
        select(items.c.listing_id)
        .where(items.c.owner_id == owner_id, items.c.listing_id.in_(ids))
        .distinct()
    )
    return set(conn.execute(stmt).scalars())


def listing_summaries(
    conn: Connection, listing_tables: Any, listing_ids: Iterable[UUID]
) -> dict[UUID, dict[str, Any]]:
    """Title, place, price and status of listings, from the listings view."""
    table = listing_tables["listings"]
    found: dict[UUID, dict[str, Any]] = {}
    for ids in chunks(set(listing_ids), 500):
        for r in conn.execute(select(table).where(table.c.id.in_(ids))).mappings():
            cover = r["spec"].get("cover_photo_id")
            found[r["id"]] = {
                "id": str(r["id"]),
                "title": r["title"],
                "category": r["category"],
                "city": r["city"],
                "country": r["country"],
                "status": r["status"],
                "booking_unit": r["booking_unit"],
                "price": {"amount": r["base_amount"], "currency": r["currency"]},
                "cover_thumbnail_url": media_url(cover, "thumb") if cover else None,
            }
    return found
