"""The coupons view: one row per coupon with its redemption counts, for the admin's and the
owners' lists; and the renter-history query first-booking coupons ask."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    select,
)

from domain import booking as b
from domain.coupon import Coupon as _Coupon
from projections.folding import RowPerAggregate
from projections.listings import JSONType, parse_instant, utc

# @event classes are made at runtime, where mypy cannot see them.
Coupon: Any = _Coupon

EVENTS = (Coupon.Created, Coupon.Redeemed, Coupon.Released, Coupon.Deactivated)
# A booking in one of these never went ahead: it does not spoil a first-booking coupon.
NOT_GONE_AHEAD = (b.CANCELLED, b.REFUNDED)


class CouponsView(RowPerAggregate):
    row_table = "coupons"
    row_events = EVENTS
    name = "coupons"
    topics = tuple(get_topic(cls) for cls in EVENTS)

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        table = Table(
            f"coupons{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("code", String(40), nullable=False, unique=True),
            Column("created_by", Uuid, nullable=False, index=True),
            Column("funded_by", String(10), nullable=False),
            Column("active", Boolean, nullable=False),
            Column("terms", JSONType, nullable=False),
            Column("redeemed", Integer, nullable=False),  # redemptions not given back
            Column("released", Integer, nullable=False),  # given back
            Column("created_at", DateTime(timezone=True), nullable=False, index=True),
            Column("updated_at", DateTime(timezone=True), nullable=False),
        )
        return {"coupons": table}

    def fold(self, row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
        version, at = event.originator_version, parse_instant(event.at)
        if isinstance(event, Coupon.Created):
            if row is not None:
                return None
            return {
                "id": event.originator_id,
                "version": version,
                "code": event.code,
                "created_by": event.by,
                "funded_by": event.terms["funded_by"],
                "active": True,
                "terms": event.terms,
                "redeemed": 0,
                "released": 0,
                "created_at": at,
                "updated_at": at,
            }
        if row is None or row["version"] >= version:
            return None
        row = {**row, "version": version, "updated_at": at}
        if isinstance(event, Coupon.Redeemed):
            row["redeemed"] += 1
        elif isinstance(event, Coupon.Released):
            row["redeemed"] -= 1
            row["released"] += 1
        elif isinstance(event, Coupon.Deactivated):
            row["active"] = False
        return row


def list_coupons(
    conn: Connection, tables: Mapping[str, Table], *, created_by: UUID | None = None
) -> list[dict[str, Any]]:
    """Newest first; an owner's own when `created_by` is given."""
    t = tables["coupons"]
    query = select(t).order_by(t.c.created_at.desc(), t.c.id)
    if created_by is not None:
        query = query.where(t.c.created_by == created_by)
    return [coupon_row(r) for r in conn.execute(query).mappings()]


def coupon_row(row: Any) -> dict[str, Any]:
    found = dict(row)  # SQLite gives naive instants back: they were UTC
    found["created_at"], found["updated_at"] = utc(row["created_at"]), utc(row["updated_at"])
    return found


def booking_history(views: Engine, bookings: Mapping[str, Table]) -> Any:
    """`has_booked(renter_id)`: the renter has a booking that went ahead (or may still)."""
    t = bookings["bookings"]

    def has_booked(renter_id: UUID) -> bool:
        query = (
            select(t.c.id)
            .where(t.c.renter_id == renter_id, t.c.status.not_in(NOT_GONE_AHEAD))
            .limit(1)
        )
        with views.connect() as conn:
            return conn.execute(query).first() is not None

    return has_booked
