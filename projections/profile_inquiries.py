"""How fast owners answer inquiries, for the profiles view: one row per inquiry
conversation, from the renter's first message until the owner's first reply.

The rule: an inquiry counts for the owner's response rate once answered (answered in time
when the first reply came within `REPLY_WINDOW`, 24 h, like a booking request's hold) or
once it waited longer than that unanswered (judged when the profile is read). Every first
reply's delay enters the median response time. Messages of a booking's conversation do not
count: its request is counted already.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Connection, DateTime, Index, Integer, MetaData, Table, Uuid, func
from sqlalchemy import select as sql_select

from domain.conversation import OWNER, RENTER, REPLY_WINDOW
from domain.conversation import Conversation as _Conversation
from projections.listings import parse_instant, utc

Conversation: Any = _Conversation
INQUIRY_EVENTS = (Conversation.MessagePosted,)


def define_inquiries(metadata: MetaData, suffix: str) -> Table:
    table = Table(
        f"profile_inquiries{suffix}",
        metadata,
        Column("conversation_id", Uuid, primary_key=True),
        Column("version", Integer, nullable=False),
        Column("owner_id", Uuid, nullable=False),
        Column("asked_at", DateTime(timezone=True), nullable=False),
        Column("answer_seconds", Integer),
    )
    Index(None, table.c.owner_id, table.c.answer_seconds)
    return table


def fold_inquiry(row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
    """The inquiry's row after a message; None for a booking's conversation, for messages
    after the first reply, and for replays."""
    if event.booking_id is not None:
        return None
    version = event.originator_version
    if row is None:
        if event.sender_role != RENTER:
            return None
        return {
            "conversation_id": event.originator_id,
            "version": version,
            "owner_id": event.recipient_id,
            "asked_at": parse_instant(event.posted_at),
            "answer_seconds": None,
        }
    if row["version"] >= version or row["answer_seconds"] is not None:
        return None
    if event.sender_role != OWNER:
        return {**row, "version": version}
    answered_at: datetime = parse_instant(event.posted_at)  # type: ignore[assignment]
    asked_at: datetime = utc(row["asked_at"])  # type: ignore[assignment]
    seconds = max(0, int((answered_at - asked_at).total_seconds()))
    return {**row, "version": version, "answer_seconds": seconds}


def inquiry_counts(
    conn: Connection, inquiries: Table, owner_id: UUID, now: datetime | None
) -> tuple[int, int]:
    """(answered in time, counted) inquiries of an owner; unanswered ones count once they
    waited longer than the window before `now` (not at all without `now`)."""
    window = int(REPLY_WINDOW.total_seconds())
    mine = inquiries.c.owner_id == owner_id
    answered = inquiries.c.answer_seconds.is_not(None)
    in_time = conn.execute(
        sql_select(func.count()).where(mine, inquiries.c.answer_seconds <= window)
    ).scalar_one()
    replied = conn.execute(sql_select(func.count()).where(mine, answered)).scalar_one()
    overdue = 0
    if now is not None:
        overdue = conn.execute(
            sql_select(func.count()).where(
                mine,
                inquiries.c.answer_seconds.is_(None),
                inquiries.c.asked_at < utc(now - timedelta(seconds=window)),
            )
        ).scalar_one()
    return int(in_time), int(replied) + int(overdue)
