"""The public profiles view: one row per user with what anyone may see (never the email or
phone), and one row per booking request an owner received, from which the owner's response
rate and median response time are computed.

A request counts once it is settled: answered (approved or declined) while still waiting,
or expired unanswered. Requests the renter withdrew, and ones still waiting, do not count.
Inquiries (messages about a listing before booking) count too: see profile_inquiries.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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
    Text,
    Uuid,
    delete,
    func,
    select,
    union_all,
)

from domain import booking as b
from domain.booking import Booking as _Booking
from domain.user import User as _User
from projections.base import Projection, Replay, upsert
from projections.event_kinds import Kinds
from projections.folding import load_rows
from projections.listings import parse_instant, utc
from projections.profile_inquiries import (
    INQUIRY_EVENTS,
    define_inquiries,
    fold_inquiry,
    inquiry_counts,
)

# @event classes are made at runtime, where mypy cannot see them.
User: Any = _User
Booking: Any = _Booking

USER_EVENTS = (
    User.Registered,
    User.ProfileUpdated,
    User.ProfileEdited,
    User.EmailVerified,
    User.Suspended,
    User.Reinstated,
    User.Erased,
)
# How a waiting request ends: answered, expired, or withdrawn by the renter.
REQUEST_OUTCOME = {
    Booking.Approved: "answered",
    Booking.Declined: "answered",
    Booking.Expired: "expired",
    Booking.Cancelled: "withdrawn",
}
BOOKING_EVENTS = (Booking.Placed, *REQUEST_OUTCOME)
IS_USER, IS_BOOKING = Kinds(*USER_EVENTS), Kinds(*BOOKING_EVENTS)
IS_INQUIRY = Kinds(*INQUIRY_EVENTS)
PENDING = "pending"


class ProfilesView(Projection):
    name = "profiles"
    topics = tuple(get_topic(cls) for cls in (*USER_EVENTS, *BOOKING_EVENTS, *INQUIRY_EVENTS))
    version = 2  # 2: inquiries count for the response rate

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        profiles = Table(
            f"profiles{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("name", String(100), nullable=False),
            Column("bio", Text, nullable=False),
            Column("languages", String(200), nullable=False),  # comma-separated ISO 639-1
            Column("avatar_media_id", Uuid),
            Column("status", String(20), nullable=False),
            Column("email_verified", Boolean, nullable=False),
            Column("member_since", DateTime(timezone=True), nullable=False),
        )
        requests = Table(
            f"profile_requests{suffix}",
            metadata,
            Column("booking_id", Uuid, primary_key=True),
            Column("version", Integer, nullable=False),
            Column("owner_id", Uuid, nullable=False),
            Column("placed_at", DateTime(timezone=True), nullable=False),
            Column("outcome", String(10), nullable=False),
            Column("answer_seconds", Integer),
        )
        Index(None, requests.c.owner_id, requests.c.outcome, requests.c.answer_seconds)
        inquiries = define_inquiries(metadata, suffix)
        return {"profiles": profiles, "requests": requests, "inquiries": inquiries}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        users: list[Any] = [e for e, _ in events if IS_USER(e)]
        bookings: list[Any] = [e for e, _ in events if IS_BOOKING(e)]
        messages: list[Any] = [e for e, _ in events if IS_INQUIRY(e)]
        for table, key, fold, ours in (
            (tables["profiles"], "id", fold_profile, users),
            (tables["requests"], "booking_id", fold_request, bookings),
            (tables["inquiries"], "conversation_id", fold_inquiry, messages),
        ):
            rows = load_rows(conn, table, {e.originator_id for e in ours}, key=key)
            changed: dict[UUID, dict[str, Any]] = {}
            for event in ours:
                row = fold(rows.get(event.originator_id), event)
                if row is not None:
                    rows[event.originator_id] = changed[event.originator_id] = row
            upsert(conn, table, changed.values(), newer="version")

    def repair_erasure(
        self, conn: Connection, tables: dict[str, Table], subject: UUID, replay: Replay
    ) -> bool:
        """The subject's own row (name, bio), folded again from their stream. Booking
        requests and inquiries keep no personal field."""
        table = tables["profiles"]
        conn.execute(delete(table).where(table.c.id == subject))
        self.process_page(conn, tables, replay([subject]))
        return True


def fold_profile(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    """The user's public row after `event`; None when it is already in (a replay)."""
    version = event.originator_version
    if isinstance(event, User.Registered):
        if row is not None:
            return None
        return {
            "id": event.originator_id,
            "version": version,
            "name": event.name,
            "bio": "",
            "languages": "",
            "avatar_media_id": None,
            "status": "active",
            "email_verified": False,
            "member_since": parse_instant(event.at),
        }
    if row is None or row["version"] >= version:
        return None
    row = {**row, "version": version}
    if isinstance(event, User.ProfileUpdated):
        row["name"] = event.name
    elif isinstance(event, User.ProfileEdited):
        row.update(name=event.name, bio=event.bio, avatar_media_id=event.avatar_media_id)
        row["languages"] = ",".join(event.languages)
    elif isinstance(event, User.EmailVerified):
        row["email_verified"] = True
    elif isinstance(event, User.Suspended):
        row["status"] = "suspended"
    elif isinstance(event, User.Reinstated):
        row["status"] = "active"
    elif isinstance(event, User.Erased):  # no public profile any more (404)
        row["status"] = "erased"
    return row


def fold_request(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    """The booking request's row after `event`; None for instant bookings, for what
    happens after a request was settled, and for replays."""
    version = event.originator_version
    if isinstance(event, Booking.Placed):
        if row is not None or event.status != b.PENDING_OWNER_APPROVAL:
            return None
        return {
            "booking_id": event.originator_id,
            "version": version,
            "owner_id": event.owner_id,
            "placed_at": parse_instant(event.at),
            "outcome": PENDING,
            "answer_seconds": None,
        }
    if row is None or row["version"] >= version or row["outcome"] != PENDING:
        return None
    outcome = REQUEST_OUTCOME[type(event)]
    row = {**row, "version": version, "outcome": outcome}
    if outcome == "answered":
        answered_at: datetime = parse_instant(event.at)  # type: ignore[assignment]
        placed_at: datetime = utc(row["placed_at"])  # type: ignore[assignment]
        row["answer_seconds"] = max(0, int((answered_at - placed_at).total_seconds()))
    return row


# -- queries -------------------------------------------------------------------------------


def read_profile(
    conn: Connection, tables: Any, user_id: UUID, now: datetime | None = None
) -> dict[str, Any] | None:
    """The public profile of an active user, with the owner's response statistics
    (inquiries left unanswered for longer than 24 h before `now` count as missed)."""
    profiles, requests = tables["profiles"], tables["requests"]
    row = conn.execute(select(profiles).where(profiles.c.id == user_id)).mappings().first()
    if row is None or row["status"] != "active":
        return None
    counts: dict[str, int] = dict(
        conn.execute(
            select(requests.c.outcome, func.count())
            .where(requests.c.owner_id == user_id, requests.c.outcome.in_(("answered", "expired")))
            .group_by(requests.c.outcome)
        ).all()
    )
    answered, expired = counts.get("answered", 0), counts.get("expired", 0)
    in_time, inquiries = inquiry_counts(conn, tables["inquiries"], user_id, now)
    settled = answered + expired + inquiries
    return {
        **dict(row),
        "member_since": utc(row["member_since"]),
        "languages": [code for code in row["languages"].split(",") if code],
        "response_rate": (answered + in_time) / settled if settled else None,
        "median_response_seconds": _median_answer(conn, tables, user_id),
    }


def _median_answer(conn: Connection, tables: Any, owner_id: UUID) -> int | None:
    """The median delay of the owner's answers to booking requests and first replies to
    inquiries (the mean of the middle two for an even count)."""
    requests, inquiries = tables["requests"], tables["inquiries"]
    answers = union_all(
        select(requests.c.answer_seconds.label("seconds")).where(
            requests.c.owner_id == owner_id, requests.c.outcome == "answered"
        ),
        select(inquiries.c.answer_seconds.label("seconds")).where(
            inquiries.c.owner_id == owner_id, inquiries.c.answer_seconds.is_not(None)
        ),
    ).subquery()
    count = int(conn.execute(select(func.count()).select_from(answers)).scalar_one())
    if not count:
        return None
    middle = (
        select(answers.c.seconds)
        .order_by(answers.c.seconds)
        .offset((count - 1) // 2)
        .limit(2 - count % 2)
    )
    values = [int(v) for v in conn.execute(middle).scalars()]
    return round(sum(values) / len(values))
