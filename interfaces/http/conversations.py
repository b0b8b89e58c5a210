"""Messaging endpoints: inquiries about a listing, a booking's conversation, messages,
read marks. Lists and messages come from the conversations view, with contact details
masked per the policy; an admin's read of a disputed booking's conversation is recorded."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from application.conversations import not_found
from domain.conversation import message_id_for
from infrastructure.bootstrap import Container
from interfaces.http.conversation_schemas import (
    ConversationPublic,
    InquiryCreate,
    InquiryPublic,
    MessageCreate,
    MessagePublic,
    ReadCreate,
    ReadMarkPublic,
)
from interfaces.http.deps import CommandDep
from interfaces.http.pagination import PageParamsDep
from interfaces.http.positions import min_position, set_position
from interfaces.http.ratelimits import rate_limit
from interfaces.http.schemas_common import Page, problem_responses
from projections.conversations_queries import (
    conversation_public,
    get_conversation,
    list_conversations,
    list_messages,
    unread_counts,
)

router = APIRouter(tags=["messaging"], responses=problem_responses(401, 403, 404, 422, 429))

# Per user, shared by inquiries and messages: a burst of 30 a minute, then one every 2 s.
MESSAGES_LIMIT = ("messages", 30, 60)
_limited = [Depends(rate_limit(*MESSAGES_LIMIT))]
_views = [Depends(min_position("conversations"))]


def _row(container: Container, conversation_id: UUID) -> dict[str, Any] | None:
    with container.views.connect() as conn:
        return get_conversation(conn, container.runner.tables("conversations"), conversation_id)


def _booking_of(container: Container, conversation_id: UUID) -> UUID | None:
    """The booking of a conversation the view knows (its stream may not have started)."""
    row = _row(container, conversation_id)
    return row["booking_id"] if row else None


def _message(
    conversation_id: UUID, seq: int, sender: UUID, recipient: UUID, body: Any, at: Any
) -> MessagePublic:
    return MessagePublic(
        id=message_id_for(conversation_id, seq),
        conversation_id=conversation_id,
        position=seq,
        sender_id=sender,
        recipient_id=recipient,
        text=body.text,
        photo_ids=list(dict.fromkeys(body.photo_ids)),
        posted_at=at,
    )


@router.post(
    "/conversations",
    status_code=status.HTTP_201_CREATED,
    response_model=InquiryPublic,
    dependencies=_limited,
    responses={200: {"description": "The existing inquiry, with this message added"}},
)
def inquire(body: InquiryCreate, command: CommandDep, response: Response) -> InquiryPublic:
    """Asks the owner of an active listing about it, before booking: 201 with a new
    conversation, or 200 when you already asked about this listing (one conversation per
    renter, owner and listing), the message added to it either way. 422 `own_listing` for
    your own listing; 429 with `Retry-After` past the per-user message rate limit."""
    container = command.container
    with command.context():
        conversation_id, _, created, position = container.conversations.inquire(
            command.actor, body.listing_id, body.text, body.photo_ids, command.now
        )
    conversation = container.conversations.find(conversation_id)
    assert conversation is not None
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    set_position(response, position)
    message = _message(
        conversation_id,
        conversation.message_count,
        command.actor.id,
        conversation.owner_id,
        body,
        command.now,
    )
    return InquiryPublic(
        id=conversation_id,
        kind=conversation.kind,
        listing_id=conversation.listing_id,
        booking_id=conversation.booking_id,
        renter_id=conversation.renter_id,
        owner_id=conversation.owner_id,
        message_count=conversation.message_count,
        last_activity_at=conversation.last_activity_at,
        message=message,
    )


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessagePublic,
    dependencies=[*_limited, *_views],
)
def post_message(
    conversation_id: UUID, body: MessageCreate, command: CommandDep, response: Response
) -> MessagePublic:
    """Writes to a conversation you are a party of (404 otherwise). The answer shows the
    message as written; reads show it per the masking policy. A booking's conversation
    exists from the booking's placement: send `X-Rentbook-Min-Position` with the booking's
    position to write to it right after placing."""
    container = command.container
    with command.context():
        conversation, _, position = container.conversations.post(
            command.actor,
            conversation_id,
            body.text,
            body.photo_ids,
            command.now,
            booking_id=_booking_of(container, conversation_id),
        )
    set_position(response, position)
    recipient = conversation.other_party(command.actor.id)
    seq = conversation.message_count
    return _message(conversation_id, seq, command.actor.id, recipient, body, command.now)


@router.get("/conversations", response_model=Page[ConversationPublic], dependencies=_views)
def my_conversations(command: CommandDep, page: PageParamsDep) -> Page[ConversationPublic]:
    """Your conversations, as renter or owner, newest activity first, with your unread
    count and the last message (masked per the policy) of each."""
    container = command.container
    with container.views.connect() as conn:
        rows, next_cursor = list_conversations(
            conn,
            container.runner.tables("conversations"),
            command.actor.id,
            limit=page.limit,
            cursor=page.cursor,
        )
    return Page[ConversationPublic](
        data=[ConversationPublic.model_validate(r) for r in rows], next_cursor=next_cursor
    )


def _readable(command: CommandDep, conversation_id: UUID, response: Response) -> dict[str, Any]:
    """The conversation's row when the caller may read it: its parties; an admin while a
    dispute on its booking is open (the read recorded; 403 `no_open_dispute` otherwise)."""
    container = command.container
    row = _row(container, conversation_id)
    if row is None:
        raise not_found(conversation_id)
    with command.context():
        position = container.conversations.open_for_reading(
            command.actor,
            conversation_id,
            (row["renter_id"], row["owner_id"]),
            command.now,
            booking_id=row["booking_id"],
        )
    if position:
        set_position(response, position)
    return row


@router.get(
    "/conversations/{conversation_id}", response_model=ConversationPublic, dependencies=_views
)
def get_conversation_endpoint(
    conversation_id: UUID, command: CommandDep, response: Response
) -> ConversationPublic:
    """A conversation of yours, with your unread count. Admins read a booking's
    conversation only while a dispute on it is open, and that read is audited."""
    container = command.container
    row = _readable(command, conversation_id, response)
    with container.views.connect() as conn:
        tables = container.runner.tables("conversations")
        unread = unread_counts(conn, tables, command.actor.id, [conversation_id])
    return ConversationPublic.model_validate(
        conversation_public(row, unread.get(conversation_id, 0))
    )


@router.get(
    "/conversations/{conversation_id}/messages",
    response_model=Page[MessagePublic],
    dependencies=_views,
)
def conversation_messages(
    conversation_id: UUID, command: CommandDep, page: PageParamsDep, response: Response
) -> Page[MessagePublic]:
    """The conversation's messages, oldest first (cursor-paginated), masked per the
    policy. Parties only (404 for others); admins while a dispute on the booking is open
    (403 `no_open_dispute` otherwise), each such read recorded in the audit log."""
    container = command.container
    row = _readable(command, conversation_id, response)
    with container.views.connect() as conn:
        rows, next_cursor = list_messages(
            conn,
            container.runner.tables("conversations"),
            row,
            limit=page.limit,
            cursor=page.cursor,
        )
    return Page[MessagePublic](
        data=[MessagePublic.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    "/conversations/{conversation_id}/read", response_model=ReadMarkPublic, dependencies=_views
)
def mark_read(
    conversation_id: UUID, body: ReadCreate, command: CommandDep, response: Response
) -> ReadMarkPublic:
    """Marks every message up to `up_to` (a message id or position) as read by you;
    unread counts drop accordingly. Marking an earlier point changes nothing."""
    container = command.container
    with command.context():
        mark, position = container.conversations.mark_read(
            command.actor,
            conversation_id,
            body.up_to,
            command.now,
            booking_id=_booking_of(container, conversation_id),
        )
    set_position(response, position)
    return ReadMarkPublic(conversation_id=conversation_id, up_to=mark)
