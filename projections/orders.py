"""The orders view: one row per order (listed by renter) and one per item booking, whose
statuses give the order's status (`domain.order.order_status`), recomputed whenever an
item moves. Bookings outside any order are ignored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

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
    select,
    update,
)

from domain.booking import Booking as _Booking
from domain.order import Order as _Order
from domain.order import order_status
from projections.base import Projection, upsert
from projections.bookings import STATUS_AFTER
from projections.folding import load_rows
from projections.listings import newest_first_page, parse_instant, rfc3339

# @event classes are made at runtime, where mypy cannot see them.
Booking: Any = _Booking
Order: Any = _Order

EVENTS = (Order.Placed, Order.Cancelled, Booking.Placed, *STATUS_AFTER)
TOPICS = tuple(get_topic(cls) for cls in EVENTS)


class OrdersView(Projection):
    name = "orders"
    topics = TOPICS
    reads_personal = frozenset[str]()  # ids, items and money: no message
    folds_by = (("order_items", "order_id"),)  # an order's status reads its items
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        orders = Table(
            f"orders{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("renter_id", Uuid, nullable=False),
            Column("status", String(40), nullable=False),
            Column("item_count", Integer, nullable=False),
            Column("total_amount", BigInteger, nullable=False),
            Column("currency", String(3), nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
        )
        Index(None, orders.c.renter_id, orders.c.created_at, orders.c.id)
        items = Table(
            f"order_items{suffix}",
            metadata,
            Column("booking_id", Uuid, primary_key=True),
            Column("order_id", Uuid, nullable=False, index=True),
            Column("version", Integer, nullable=False),
            Column("status", String(40), nullable=False),
        )
        return {"orders": orders, "order_items": items}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        orders, items = tables["orders"], tables["order_items"]
        # order id -> (log position, time) of its latest event here: the latest in the log
        # sets `updated_at`, so any paging (incremental or rebuild) gives the same row.
        touched: dict[UUID, tuple[int, Any]] = {}
        new_orders: list[dict[str, Any]] = []
        new_items: list[dict[str, Any]] = []
        moved: dict[UUID, tuple[int, str, int, Any]] = {}  # booking -> version, status, pos, at
        for ev, position in events:
            event: Any = ev
            if isinstance(event, Order.Placed):
                at = parse_instant(event.at)
                new_orders.append(
                    {
                        "id": event.originator_id,
                        "renter_id": event.renter_id,
                        "status": "pending",
                        "item_count": len(event.items),
                        "total_amount": int(event.quote["total"]),
                        "currency": event.quote["currency"],
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                touched[event.originator_id] = (position, at)
            elif isinstance(event, Booking.Placed):
                order_id = getattr(event, "order_id", None)
                if order_id is not None:
                    new_items.append(
                        {
                            "booking_id": event.originator_id,
                            "order_id": order_id,
                            "version": event.originator_version,
                            "status": event.status,
                        }
                    )
                    touched[order_id] = (position, parse_instant(event.at))
            elif type(event) in STATUS_AFTER:
                status = STATUS_AFTER[type(event)]
                moved[event.originator_id] = (event.originator_version, status, position, event.at)
        if new_orders:
            existing = load_rows(conn, orders, [r["id"] for r in new_orders])
            upsert(conn, orders, [r for r in new_orders if r["id"] not in existing])
        if new_items:
            known = load_rows(conn, items, [r["booking_id"] for r in new_items], key="booking_id")
            upsert(conn, items, [r for r in new_items if r["booking_id"] not in known])
        if moved:
            ours = load_rows(conn, items, moved, key="booking_id")
            changed = [
                {**row, "version": moved[bid][0], "status": moved[bid][1]}
                for bid, row in ours.items()
                if row["version"] < moved[bid][0]
            ]
            upsert(conn, items, changed, newer="version")
            for row in changed:
                _, _, position, at = moved[row["booking_id"]]
                latest = touched.get(row["order_id"])
                if latest is None or latest[0] < position:
                    touched[row["order_id"]] = (position, parse_instant(at))
        _restatus(conn, orders, items, touched)


def _restatus(
    conn: Connection, orders: Table, items: Table, touched: dict[UUID, tuple[int, Any]]
) -> None:
    """The touched orders' status from their items' (and when it last changed)."""
    if not touched:
        return
    statuses: dict[UUID, list[str]] = {order_id: [] for order_id in touched}
    query = select(items.c.order_id, items.c.status).where(items.c.order_id.in_(list(touched)))
    for order_id, status in conn.execute(query):
        statuses[order_id].append(status)
    for order_id, found in statuses.items():
        values: dict[str, Any] = {"status": order_status(found) if found else "pending"}
        if touched[order_id][1] is not None:
            values["updated_at"] = touched[order_id][1]
        conn.execute(update(orders).where(orders.c.id == order_id).values(**values))


# -- queries -------------------------------------------------------------------------------


def order_row_public(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "renter_id": str(row["renter_id"]),
        "status": row["status"],
        "item_count": row["item_count"],
        "total": {"amount": row["total_amount"], "currency": row["currency"]},
        "created_at": rfc3339(row["created_at"]),
        "updated_at": rfc3339(row["updated_at"]),
    }


def list_orders(
    conn: Connection,
    tables: Any,
    renter_id: UUID,
    status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A renter's orders, newest first, optionally of one (derived) status."""
    table = tables["orders"]
    where = [table.c.renter_id == renter_id]
    if status is not None:
        where.append(table.c.status == status)
    rows, next_cursor = newest_first_page(conn, table, where, limit, cursor)
    return [order_row_public(r) for r in rows], next_cursor
