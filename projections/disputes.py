"""The disputes queue: one row per dispute, for admins working through them.

Each row carries what an admin sorts and filters by: status, booking, opener, assigned
admin, the SLA due times (first admin action, resolution; cleared once met) and the due time
of any unanswered information request per party. "Overdue" is a question asked at an instant:
an SLA due time has passed (a live dispute always has its resolution due time).
"""

from __future__ import annotations

from datetime import datetime
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
    and_,
    or_,
    select,
)

from domain import dispute as d
from domain.dispute import Dispute as _Dispute
from domain.errors import RuleViolation
from projections.folding import RowPerAggregate
from projections.listings import (
    check_limit,
    decode_cursor,
    encode_cursor,
    parse_instant,
    rfc3339,
    utc,
)

# @event classes are made at runtime, where mypy cannot see them.
Dispute: Any = _Dispute

EVENTS = (
    Dispute.Opened,
    Dispute.Assigned,
    Dispute.InformationRequested,
    Dispute.Responded,
    Dispute.Resolved,
    Dispute.Withdrawn,
)
TOPICS = tuple(get_topic(cls) for cls in EVENTS)
STATUSES = (d.OPEN, d.UNDER_REVIEW, d.AWAITING_INFORMATION, d.RESOLVED, d.WITHDRAWN)
LIVE = "live"  # the filter for open, under_review and awaiting_information together


class DisputesView(RowPerAggregate):
    row_table = "disputes"
    row_events = EVENTS
    name = "disputes"
    topics = TOPICS
    reads_personal = frozenset[str]()  # ids, parties, statuses, money: no description
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        table = Table(
            f"disputes{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("booking_id", Uuid, nullable=False, index=True),
            Column("renter_id", Uuid, nullable=False),
            Column("owner_id", Uuid, nullable=False),
            Column("opened_by", Uuid, nullable=False),
            Column("opener_role", String(10), nullable=False),
            Column("kind", String(40), nullable=False),
            Column("status", String(40), nullable=False),
            Column("assigned_admin", Uuid),
            Column("claimed_amount", BigInteger),
            Column("claimed_currency", String(3)),
            Column("first_action_due", DateTime(timezone=True)),
            Column("resolution_due", DateTime(timezone=True)),
            Column("renter_information_due", DateTime(timezone=True)),
            Column("owner_information_due", DateTime(timezone=True)),
            Column("outcome", String(40)),
            Column("opened_at", DateTime(timezone=True), nullable=False),
            Column("updated_at", DateTime(timezone=True), nullable=False),
            Column("closed_at", DateTime(timezone=True)),
        )
        # The queue orders: by status, by assignee; oldest first.
        Index(None, table.c.status, table.c.opened_at, table.c.id)
        Index(None, table.c.assigned_admin, table.c.opened_at, table.c.id)
        return {"disputes": table}

    def fold(self, row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
        return apply(row, event)


def apply(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    """The dispute's row after `event`; None when the event is already in (a replay)."""
    version, at = event.originator_version, parse_instant(event.at)
    if isinstance(event, Dispute.Opened):
        if row is not None:
            return None
        claimed = event.claimed_amount or {}
        return {
            "id": event.originator_id,
            "version": version,
            "booking_id": event.booking_id,
            "renter_id": event.renter_id,
            "owner_id": event.owner_id,
            "opened_by": event.by,
            "opener_role": event.role,
            "kind": event.kind,
            "status": d.OPEN,
            "assigned_admin": None,
            "claimed_amount": claimed.get("amount"),
            "claimed_currency": claimed.get("currency"),
            "first_action_due": parse_instant(event.first_action_due),
            "resolution_due": parse_instant(event.resolution_due),
            "renter_information_due": None,
            "owner_information_due": None,
            "outcome": None,
            "opened_at": at,
            "updated_at": at,
            "closed_at": None,
        }
    if row is None or row["version"] >= version:
        return None
    row = {**row, "version": version, "updated_at": at}
    if isinstance(event, Dispute.Assigned):
        row.update(assigned_admin=event.admin_id, status=event.status, first_action_due=None)
    elif isinstance(event, Dispute.InformationRequested):
        due_key = f"{event.to}_information_due"
        due_at, known = parse_instant(event.due_at), utc(row[due_key])
        row.update(status=d.AWAITING_INFORMATION, first_action_due=None)
        row[due_key] = due_at if known is None or (due_at and due_at < known) else known
        row["assigned_admin"] = row["assigned_admin"] or event.by
    elif isinstance(event, Dispute.Responded):
        row.update({"status": event.status, f"{event.role}_information_due": None})
    elif isinstance(event, Dispute.Resolved | Dispute.Withdrawn):
        resolved = isinstance(event, Dispute.Resolved)
        row.update(
            status=d.RESOLVED if resolved else d.WITHDRAWN,
            outcome=event.outcome if resolved else None,
            first_action_due=None,
            resolution_due=None,
            renter_information_due=None,
            owner_information_due=None,
            closed_at=at,
        )
    return row


# -- queries -------------------------------------------------------------------------------


def is_overdue(row: Any, now: datetime) -> bool:
    dues = (utc(row["first_action_due"]), utc(row["resolution_due"]))
    return any(due is not None and due <= now for due in dues)


def dispute_row_public(row: Any, now: datetime) -> dict[str, Any]:
    claimed = row["claimed_amount"]
    return {
        "id": str(row["id"]),
        "version": row["version"],
        "booking_id": str(row["booking_id"]),
        "renter_id": str(row["renter_id"]),
        "owner_id": str(row["owner_id"]),
        "opened_by": str(row["opened_by"]),
        "opener_role": row["opener_role"],
        "type": row["kind"],
        "status": row["status"],
        "assigned_admin_id": str(row["assigned_admin"]) if row["assigned_admin"] else None,
        "claimed_amount": (
            None if claimed is None else {"amount": claimed, "currency": row["claimed_currency"]}
        ),
        "first_action_due": rfc3339(row["first_action_due"]),
        "resolution_due": rfc3339(row["resolution_due"]),
        "renter_information_due": rfc3339(row["renter_information_due"]),
        "owner_information_due": rfc3339(row["owner_information_due"]),
        "overdue": is_overdue(row, now),
        "outcome": row["outcome"],
        "opened_at": rfc3339(row["opened_at"]),
        "updated_at": rfc3339(row["updated_at"]),
        "closed_at": rfc3339(row["closed_at"]),
    }


def queue_filters(
    table: Table,
    *,
    now: datetime,
    status: str | None = None,
    assigned_to: UUID | None = None,
    unassigned: bool = False,
    overdue: bool | None = None,
    booking_id: UUID | None = None,
) -> list[Any]:
    """The queue's conditions (see `list_disputes`); `now` in UTC."""
    where: list[Any] = []
    if status == LIVE:
        where.append(table.c.status.in_(sorted(d.LIVE)))
    elif status is not None:
        if status not in STATUSES:
            raise RuleViolation("bad_status", f"status is {LIVE} or one of {', '.join(STATUSES)}")
        where.append(table.c.status == status)
    if assigned_to is not None:
        where.append(table.c.assigned_admin == assigned_to)
    if unassigned:
        where.append(table.c.assigned_admin.is_(None))
    if booking_id is not None:
        where.append(table.c.booking_id == booking_id)
    late = or_(table.c.first_action_due <= now, table.c.resolution_due <= now)
    if overdue is True:
        where.append(late)
    elif overdue is False:
        where.append(
            and_(
                or_(table.c.first_action_due.is_(None), table.c.first_action_due > now),
                or_(table.c.resolution_due.is_(None), table.c.resolution_due > now),
            )
        )
    return where


def list_disputes(
    conn: Connection,
    tables: Any,
    *,
    now: datetime,
    status: str | None = None,
    assigned_to: UUID | None = None,
    unassigned: bool = False,
    overdue: bool | None = None,
    booking_id: UUID | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The queue, oldest first (keyset-paginated by opened_at, id). `status` is one of
    STATUSES or "live"; `overdue` True keeps disputes past an SLA due time at `now`,
    False keeps the others."""
    table = tables["disputes"]
    limit = check_limit(limit)
    now = utc(now) or now
    where = queue_filters(
        table, now=now, status=status, assigned_to=assigned_to, unassigned=unassigned,
        overdue=overdue, booking_id=booking_id,
    )  # fmt: skip
    if cursor:
        when, ident = decode_cursor(cursor, 2)
        try:
            after = (datetime.fromisoformat(when), UUID(ident))
        except ValueError:
            raise RuleViolation("bad_cursor", "the cursor is not one this API issued") from None
        where.append(
            or_(
                table.c.opened_at > after[0],
                and_(table.c.opened_at == after[0], table.c.id > after[1]),
            )
        )
    stmt = select(table).where(*where).order_by(table.c.opened_at, table.c.id).limit(limit + 1)
    rows = list(conn.execute(stmt).mappings())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(utc(rows[-1]["opened_at"]), rows[-1]["id"])
    return [dispute_row_public(r, now) for r in rows], next_cursor
