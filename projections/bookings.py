"""The bookings view: one row per booking, listed by renter and by owner."""

from __future__ import annotations

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
    or_,
    select,
)

from domain import booking as b
from domain.booking import Booking as _Booking
from domain.errors import RuleViolation
from projections.base import Replay
from projections.folding import RowPerAggregate
from projections.listings import JSONType, newest_first_page, parse_instant, rfc3339

# @event classes are made at runtime, where mypy cannot see them.
Booking: Any = _Booking

# The status each transition leads to (Placed carries its own).
STATUS_AFTER: dict[type, str] = {
    Booking.Approved: b.PENDING_PAYMENT,
    Booking.Declined: b.CANCELLED,
    Booking.Expired: b.CANCELLED,
    Booking.PaymentFailed: b.CANCELLED,
    Booking.Confirmed: b.CONFIRMED,
    Booking.Started: b.IN_PROGRESS,
    Booking.Ended: b.AWAITING_RETURN_INSPECTION,
    Booking.Completed: b.COMPLETED,
    Booking.Settled: b.SETTLED,
    Booking.Cancelled: b.CANCELLED,
    Booking.Refunded: b.REFUNDED,
    Booking.DisputeOpened: b.DISPUTED,
    Booking.DisputeResolved: b.COMPLETED,
}
# Check-ins/outs change no status by themselves (a Started/Ended follows when they do), but
# every booking event is here: the deadlines view acts on the booking's current version.
STAY_EVENTS = {Booking.CheckedIn: "check_ins", Booking.CheckedOut: "check_outs"}
EVENTS = (Booking.Placed, Booking.PaymentRequested, *STATUS_AFTER, *STAY_EVENTS)
TOPICS = tuple(get_topic(cls) for cls in EVENTS)


class BookingsView(RowPerAggregate):
    row_table = "bookings"
    row_events = EVENTS
    name = "bookings"
    topics = TOPICS
    # check-in and check-out reports (their notes are personal); not a placement's message
    reads_personal = frozenset(get_topic(cls) for cls in STAY_EVENTS)
    version = 3  # 2: check-ins and check-outs; 3: the by-placement-time index

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        name = f"bookings{suffix}"
        table = Table(
            name,
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("listing_id", Uuid, nullable=False, index=True),
            Column("owner_id", Uuid, nullable=False),
            Column("renter_id", Uuid, nullable=False),
            Column("status", String(40), nullable=False),
            Column("unit", String(10), nullable=False),
            Column("start", String(40), nullable=False),
            Column("end", String(40), nullable=False),
            Column("quantity", Integer, nullable=False),
            Column("guests", Integer, nullable=False),
            Column("total_amount", BigInteger, nullable=False),
            Column("currency", String(3), nullable=False),
            Column("expires_at", DateTime(timezone=True)),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
            # {"check_ins": {side: {by, at, report}}, "check_outs": {...}}
            Column("stay", JSONType, nullable=False),
        )
        # The two list orders: a user's bookings as renter / as owner, newest first.
        Index(None, table.c.renter_id, table.c.created_at, table.c.id)
        Index(None, table.c.owner_id, table.c.created_at, table.c.id)
        # Every booking by placement time: the admin CSV export's keyset pages.
        Index(None, table.c.created_at, table.c.id)
        return {"bookings": table}

    def fold(self, row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
        return apply(row, event)

    def repair_erasure(
        self, conn: Connection, tables: dict[str, Table], subject: UUID, replay: Replay
    ) -> bool:
        """The subject's condition reports: the bookings (as renter or owner) where they
        checked in or out, refolded from their streams."""
        table = tables["bookings"]
        parties = or_(table.c.renter_id == subject, table.c.owner_id == subject)
        rows = conn.execute(select(table.c.id, table.c.stay).where(parties))
        mine = [r.id for r in rows if _reported_by(r.stay, str(subject))]
        self.refold(conn, tables, mine, replay)
        return True


def _reported_by(stay: dict[str, Any], by: str) -> bool:
    return any(r.get("by") == by for kind in stay.values() for r in kind.values())


def apply(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    """The booking's row after `event`; None when the event is already in (a replay)."""
    version, at = event.originator_version, parse_instant(event.at)
    if isinstance(event, Booking.Placed):
        if row is not None:
            return None
        return {
            "id": event.originator_id,
            "version": version,
            "listing_id": event.listing_id,
            "owner_id": event.owner_id,
            "renter_id": event.renter_id,
            "status": event.status,
            "unit": event.unit,
            "start": event.start,
            "end": event.end,
            "quantity": event.quantity,
            "guests": event.guests,
            "total_amount": event.quote["total"],
            "currency": event.quote["currency"],
            "expires_at": parse_instant(event.expires_at),
            "created_at": at,
            "updated_at": at,
            "stay": {"check_ins": {}, "check_outs": {}},
        }
    if row is None or row["version"] >= version:
        return None
    row = {**row, "version": version, "updated_at": at}
    if isinstance(event, Booking.Approved):
        row["expires_at"] = parse_instant(event.expires_at)
    if isinstance(event, Booking.Confirmed):
        row["expires_at"] = None
    if type(event) in STATUS_AFTER:
        row["status"] = STATUS_AFTER[type(event)]
    if type(event) in STAY_EVENTS:
        kind = STAY_EVENTS[type(event)]
        record = {"by": str(event.by), "at": rfc3339(at), "report": event.report}
        row["stay"] = {**row["stay"], kind: {**row["stay"][kind], event.role: record}}
    return row


# -- queries -------------------------------------------------------------------------------


def booking_public(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "version": row["version"],
        "listing_id": str(row["listing_id"]),
        "owner_id": str(row["owner_id"]),
        "renter_id": str(row["renter_id"]),
        "status": row["status"],
        "unit": row["unit"],
        "start": row["start"],
        "end": row["end"],
        "quantity": row["quantity"],
        "guests": row["guests"],
        "total": {"amount": row["total_amount"], "currency": row["currency"]},
        "expires_at": rfc3339(row["expires_at"]),
        "created_at": rfc3339(row["created_at"]),
        "updated_at": rfc3339(row["updated_at"]),
        "check_ins": row["stay"]["check_ins"],
        "check_outs": row["stay"]["check_outs"],
    }


def list_bookings(
    conn: Connection,
    tables: Any,
    user_id: UUID,
    role: str = "renter",
    status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A user's bookings as renter or as owner, newest first, optionally of one status."""
    table = tables["bookings"]
    if role not in ("renter", "owner"):
        raise RuleViolation("bad_role", "role is renter or owner")
    where = [table.c[f"{role}_id"] == user_id]
    if status is not None:
        where.append(table.c.status == status)
    rows, next_cursor = newest_first_page(conn, table, where, limit, cursor)
    return [booking_public(r) for r in rows], next_cursor
