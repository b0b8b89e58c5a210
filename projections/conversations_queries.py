"""Queries of the conversations view, with the masking policy applied to every text."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Connection, and_, func, or_, select

from domain.contact_masking import mask_contacts
from projections.conversations import masked
from projections.listings import log_order_page, newest_first_page, rfc3339


def shown(text: str | None, hide: bool) -> str | None:
    return mask_contacts(text) if hide and text is not None else text


def get_conversation(conn: Connection, tables: Any, conversation_id: UUID) -> dict[str, Any] | None:
    table = tables["conversations"]
    row = conn.execute(select(table).where(table.c.id == conversation_id)).mappings().first()
    return dict(row) if row is not None else None


def conversation_public(row: Any, unread: int) -> dict[str, Any]:
    hide = masked(row)
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "listing_id": str(row["listing_id"]),
        "booking_id": str(row["booking_id"]) if row["booking_id"] else None,
        "renter_id": str(row["renter_id"]),
        "owner_id": str(row["owner_id"]),
        "masked": hide,
        "message_count": row["message_count"],
        "unread_count": unread,
        "last_message": None
        if row["last_sender_id"] is None
        else {"sender_id": str(row["last_sender_id"]), "text": shown(row["last_text"], hide)},
        "created_at": rfc3339(row["created_at"]),
        "last_activity_at": rfc3339(row["last_activity_at"]),
    }


def unread_counts(
    conn: Connection, tables: Any, user_id: UUID, conversation_ids: list[UUID]
) -> dict[UUID, int]:
    """Per conversation, the messages `user_id` received after their read mark."""
    if not conversation_ids:
        return {}
    messages, reads = tables["messages"], tables["reads"]
    joined = messages.outerjoin(
        reads,
        and_(
            reads.c.conversation_id == messages.c.conversation_id,
            reads.c.user_id == user_id,
        ),
    )
    stmt = (
        select(messages.c.conversation_id, func.count())
        .select_from(joined)
        .where(
            messages.c.conversation_id.in_(conversation_ids),
            messages.c.recipient_id == user_id,
            messages.c.seq > func.coalesce(reads.c.up_to, 0),
        )
        .group_by(messages.c.conversation_id)
    )
    return {cid: int(count) for cid, count in conn.execute(stmt).all()}


def list_conversations(
    conn: Connection, tables: Any, user_id: UUID, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The user's conversations (as renter or owner), newest activity first, each with its
    unread count and last message (masked per the policy)."""
    table = tables["conversations"]
    where = [or_(table.c.renter_id == user_id, table.c.owner_id == user_id)]
    rows, next_cursor = newest_first_page(conn, table, where, limit, cursor, at="last_activity_at")
    unread = unread_counts(conn, tables, user_id, [r["id"] for r in rows])
    return [conversation_public(r, unread.get(r["id"], 0)) for r in rows], next_cursor


def message_public(row: Any, hide: bool) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "conversation_id": str(row["conversation_id"]),
        "position": row["seq"],
        "sender_id": str(row["sender_id"]),
        "recipient_id": str(row["recipient_id"]),
        "text": shown(row["text"], hide),
        "photo_ids": list(row["photo_ids"]),
        "posted_at": rfc3339(row["posted_at"]),
    }


def list_messages(
    conn: Connection, tables: Any, conversation: Any, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The conversation's messages, oldest first (masked per the policy)."""
    table = tables["messages"]
    where = [table.c.conversation_id == conversation["id"]]
    rows, next_cursor = log_order_page(conn, table, where, limit, cursor)
    hide = masked(conversation)
    return [message_public(r, hide) for r in rows], next_cursor


def read_mark(conn: Connection, tables: Any, conversation_id: UUID, user_id: UUID) -> int:
    reads = tables["reads"]
    stmt = select(reads.c.up_to).where(
        reads.c.conversation_id == conversation_id, reads.c.user_id == user_id
    )
    return int(conn.execute(stmt).scalar() or 0)
