"""The conversations view: one row per conversation (inquiries from their first message,
a booking's from the booking's placement), one row per message, and each reader's read mark.

Rows change only for events at a later log position than the one they last applied, so a
replayed page is a no-op and a rebuild equals incremental processing. Whether a
conversation's text is shown masked is decided when it is read (`masked`): inquiries always,
a booking's conversation until the booking is confirmed. The rows keep the text as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
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
    or_,
    select,
)

from domain.booking import Booking as _Booking
from domain.conversation import BOOKING, INQUIRY, booking_conversation_id, message_id_for
from domain.conversation import Conversation as _Conversation
from projections.base import Projection, Replay, upsert
from projections.event_kinds import Kinds
from projections.folding import CHUNK, chunks, load_rows
from projections.listings import JSONType, parse_instant

# @event classes are made at runtime, where mypy cannot see them.
Conversation: Any = _Conversation
Booking: Any = _Booking

EVENTS = (
    Booking.Placed,
    Booking.Confirmed,
    Conversation.Started,
    Conversation.MessagePosted,
    Conversation.ReadMarked,
)
is_ours = Kinds(*EVENTS)


class ConversationsView(Projection):
    name = "conversations"
    topics = tuple(get_topic(cls) for cls in EVENTS)
    version = 2  # v2: a booking's request message is the first message of its conversation

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        conversations = Table(
            f"conversations{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("position", BigInteger, nullable=False),  # of the last event applied
            Column("kind", String(10), nullable=False),
            Column("listing_id", Uuid, nullable=False),
            Column("booking_id", Uuid),
            Column("renter_id", Uuid, nullable=False),
            Column("owner_id", Uuid, nullable=False),
            Column("confirmed", Boolean, nullable=False),
            Column("message_count", Integer, nullable=False),
            Column("last_sender_id", Uuid),
            Column("last_text", Text),
            Column("created_at", DateTime(timezone=True), nullable=False),
            Column("last_activity_at", DateTime(timezone=True), nullable=False),
        )
        Index(None, conversations.c.renter_id, conversations.c.last_activity_at)
        Index(None, conversations.c.owner_id, conversations.c.last_activity_at)
        messages = Table(
            f"conversation_messages{suffix}",
            metadata,
            Column("position", BigInteger, primary_key=True, autoincrement=False),
            Column("id", Uuid, nullable=False, unique=True),
            Column("conversation_id", Uuid, nullable=False),
            Column("seq", Integer, nullable=False),
            Column("sender_id", Uuid, nullable=False),
            Column("recipient_id", Uuid, nullable=False),
            Column("text", Text, nullable=False),
            Column("photo_ids", JSONType, nullable=False),
            Column("posted_at", DateTime(timezone=True), nullable=False),
        )
        Index(None, messages.c.conversation_id, messages.c.position)
        Index(None, messages.c.conversation_id, messages.c.recipient_id, messages.c.seq)
        reads = Table(
            f"conversation_reads{suffix}",
            metadata,
            Column("conversation_id", Uuid, primary_key=True),
            Column("user_id", Uuid, primary_key=True),
            Column("position", BigInteger, nullable=False),
            Column("up_to", Integer, nullable=False),
        )
        return {"conversations": conversations, "messages": messages, "reads": reads}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        ours: list[tuple[Any, int]] = [(e, p) for e, p in events if is_ours(e)]
        if not ours:
            return
        cids = [conversation_of(e) for e, _ in ours]  # a uuid5 each: computed once
        rows = load_rows(conn, tables["conversations"], set(cids))
        changed: set[UUID] = set()
        messages: list[dict[str, Any]] = []
        reads: dict[tuple[UUID, UUID], dict[str, Any]] = {}
        for (event, position), cid in zip(ours, cids, strict=True):
            if isinstance(event, Conversation.ReadMarked):
                key = (cid, event.reader_id)
                mark = {"conversation_id": cid, "user_id": event.reader_id, "position": position}
                reads[key] = {**mark, "up_to": event.up_to}
                continue
            row = fold(rows.get(cid), event, position, cid)
            if row is None:
                continue
            rows[cid] = row
            changed.add(cid)
            if isinstance(event, Conversation.MessagePosted):
                messages.append(message_row(event, position))
            elif isinstance(event, Booking.Placed) and event.message:
                messages.append(request_row(event, position, cid))
        upsert(conn, tables["conversations"], [rows[c] for c in changed], newer="position")
        upsert(conn, tables["messages"], messages, keep_existing=True)
        # Read marks only move forward: a higher position carries a higher mark.
        upsert(conn, tables["reads"], reads.values(), newer="position")

    def repair_erasure(
        self, conn: Connection, tables: dict[str, Table], subject: UUID, replay: Replay
    ) -> bool:
        """The subject's conversations (only parties write in one), their rows and messages
        made again from the conversation's stream and its booking's (a request's message,
        erased, is a message even where it was empty). Read marks hold no text."""
        table, messages = tables["conversations"], tables["messages"]
        parties = or_(table.c.renter_id == subject, table.c.owner_id == subject)
        rows = conn.execute(select(table.c.id, table.c.kind, table.c.booking_id).where(parties))
        streams: dict[UUID, list[UUID]] = {}
        for row in rows:
            booking = row.booking_id if row.kind == BOOKING else None
            streams[row.id] = [row.id] if booking is None else [row.id, booking]
        for chunk in chunks(streams, CHUNK):
            conn.execute(delete(messages).where(messages.c.conversation_id.in_(chunk)))
            conn.execute(delete(table).where(table.c.id.in_(chunk)))
            self.process_page(conn, tables, replay([s for c in chunk for s in streams[c]]))
        return True


def conversation_of(event: Any) -> UUID:
    if isinstance(event, (Booking.Placed, Booking.Confirmed)):
        return booking_conversation_id(event.originator_id)
    oid = event.originator_id
    return oid if type(oid) is UUID else UUID(str(oid))


def fold(row: dict[str, Any] | None, event: Any, position: int, cid: UUID) -> dict[str, Any] | None:
    """Conversation `cid`'s row after `event` at `position`; None when unchanged."""
    if row is not None and row["position"] >= position:
        return None  # applied already (a replayed page)
    if isinstance(event, (Booking.Placed, Conversation.Started)):
        if row is not None:
            return None  # a booking's conversation started its stream: the row is there
        at = parse_instant(event.at)
        is_booking = isinstance(event, Booking.Placed)
        return {
            "id": cid,
            "position": position,
            "kind": BOOKING if is_booking else event.kind,
            "listing_id": event.listing_id,
            "booking_id": event.originator_id if is_booking else event.booking_id,
            "renter_id": event.renter_id,
            "owner_id": event.owner_id,
            "confirmed": False,
            "message_count": 0,  # posted messages; a request message is not one of them
            "last_sender_id": event.renter_id if is_booking and event.message else None,
            "last_text": (event.message or None) if is_booking else None,
            "created_at": at,
            "last_activity_at": at,
        }
    if row is None:
        return None
    if isinstance(event, Booking.Confirmed):
        return {**row, "position": position, "confirmed": True}
    return {
        **row,
        "position": position,
        "message_count": event.seq,
        "last_sender_id": event.sender_id,
        "last_text": event.text,
        "last_activity_at": parse_instant(event.posted_at),
    }


def message_row(event: Any, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "id": event.message_id,
        "conversation_id": event.originator_id,
        "seq": event.seq,
        "sender_id": event.sender_id,
        "recipient_id": event.recipient_id,
        "text": event.text,
        "photo_ids": [str(p) for p in event.photo_ids],
        "posted_at": parse_instant(event.posted_at),
    }


def request_row(event: Any, position: int, cid: UUID) -> dict[str, Any]:
    """The message a renter sent with their booking request, shown first in the booking's
    conversation (sequence 0: before the stream's own messages, never unread, as the owner
    answers the request itself in the requests inbox)."""
    return {
        "position": position,
        "id": message_id_for(cid, 0),
        "conversation_id": cid,
        "seq": 0,
        "sender_id": event.renter_id,
        "recipient_id": event.owner_id,
        "text": event.message,
        "photo_ids": [],
        "posted_at": parse_instant(event.at),
    }


def masked(row: Any) -> bool:
    """The policy: contact details are hidden in inquiries, and in a booking's
    conversation until the booking is confirmed."""
    return bool(row["kind"] == INQUIRY or not row["confirmed"])
