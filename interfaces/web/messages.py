"""Messages: my conversations (unread counts, newest first), a conversation's thread
(masked as the API shows it) with a send form, "Contact the host" on a listing page, and
the thread fragment static/live.js re-reads on each `message` event of /api/v1/me/stream.

Reads are the API's: the conversations view, `open_for_reading` for who may read (404 for
anyone else), `post` / `inquire` for writes. Opening a thread marks it read up to its
last message, as a mail client does."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import Actor, command_context
from application.conversations import not_found
from domain.conversation import booking_conversation_id
from domain.errors import DomainError, NotFoundError, RuleViolation
from interfaces.web.account import _allowed
from interfaces.web.listing_view import listing_title
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render
from projections.conversations_queries import (
    get_conversation,
    list_conversations,
    list_messages,
    unread_counts,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


class RateLimited(RuleViolation):
    """Past the per-user message budget (the API answers 429; the page says so)."""


MAX_TEXT = 4000
MESSAGES_LIMIT = ("messages", 30, 60)  # the API's bucket: one budget per user for both
THREAD_LIMIT = 200  # the newest messages a thread page shows


def _tables(visitor: Visitor) -> Any:
    return visitor.container.runner.tables("conversations")


def _readable(visitor: Visitor, conversation_id: UUID) -> tuple[Actor, dict[str, Any]]:
    """The conversation's view row when the visitor may read it (the API's check)."""
    actor = visitor.require()
    with visitor.container.views.connect() as conn:
        row = get_conversation(conn, _tables(visitor), conversation_id)
    if row is None:
        raise not_found(conversation_id)
    with command_context(actor, request_id=visitor.request_id):
        visitor.container.conversations.open_for_reading(
            actor,
            conversation_id,
            (row["renter_id"], row["owner_id"]),
            visitor.now,
            booking_id=row["booking_id"],
        )
    return actor, row


@router.get("/messages", response_class=HTMLResponse)
def inbox(request: Request, visitor: VisitorDep) -> Response:
    actor = visitor.require()
    with visitor.container.views.connect() as conn:
        rows, _ = list_conversations(conn, _tables(visitor), actor.id, limit=100, cursor=None)
    titles: dict[str, str] = {}
    for row in rows:
        titles.setdefault(row["listing_id"], listing_title(visitor, UUID(row["listing_id"])))
    return render(request, "messages.html", {"conversations": rows, "titles": titles})


def _thread(visitor: Visitor, actor: Actor, row: dict[str, Any]) -> dict[str, Any]:
    with visitor.container.views.connect() as conn:
        messages, _ = list_messages(conn, _tables(visitor), row, limit=THREAD_LIMIT, cursor=None)
        unread = unread_counts(conn, _tables(visitor), actor.id, [row["id"]]).get(row["id"], 0)
    if unread and messages:
        _mark_read(visitor, actor, row, int(messages[-1]["position"]))
    return {
        "conversation": row,
        "messages": messages,
        "me": str(actor.id),
        "title": listing_title(visitor, row["listing_id"]),
        "with_role": "host" if actor.id == row["renter_id"] else "guest",
    }


def _mark_read(visitor: Visitor, actor: Actor, row: dict[str, Any], up_to: int) -> None:
    try:
        with command_context(actor, request_id=visitor.request_id):
            _, position = visitor.container.conversations.mark_read(
                actor, row["id"], up_to, visitor.now, booking_id=row["booking_id"]
            )
        visitor.read_your_writes(position, "conversations")  # the inbox's next read sees it
    except DomainError:  # an admin reading a dispute, or a message not in the stream yet
        pass


@router.get("/messages/{conversation_id}", response_class=HTMLResponse)
def thread(request: Request, conversation_id: UUID, visitor: VisitorDep) -> Response:
    actor, row = _readable(visitor, conversation_id)
    context = _thread(visitor, actor, row) | {"text": "", "error": ""}
    return render(request, "conversation.html", context)


@router.get("/messages/{conversation_id}/thread", response_class=HTMLResponse)
def thread_fragment(
    request: Request, conversation_id: UUID, visitor: VisitorDep, after: int = 0
) -> Response:
    """The message list alone; `after` (the stream event's position) is waited for."""
    visitor.read_your_writes(max(after, 0), "conversations", timeout=2.0)
    actor, row = _readable(visitor, conversation_id)
    return render(request, "_thread.html", _thread(visitor, actor, row))


@router.post("/messages/{conversation_id}", response_class=HTMLResponse)
def send(request: Request, conversation_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    """Posts a message; htmx gets the new thread and an empty form, a plain form a redirect."""
    actor, row = _readable(visitor, conversation_id)
    text = form.get("text", "")
    error = ""
    if not text:
        error = "Write a message first."
    elif len(text) > MAX_TEXT:
        error = f"Keep it under {MAX_TEXT} characters."
    elif not _allowed(request, visitor, MESSAGES_LIMIT):
        error = "That is a lot of messages at once: wait a moment, then send."
    else:
        try:
            with command_context(actor, request_id=visitor.request_id):
                _, _, position = visitor.container.conversations.post(
                    actor, conversation_id, text, None, visitor.now, booking_id=row["booking_id"]
                )
            visitor.read_your_writes(position, "conversations")
        except DomainError as problem:
            error = problem.detail
    if "hx-request" not in request.headers and not error:
        return RedirectResponse(f"/messages/{conversation_id}", status_code=303)
    context = _thread(visitor, actor, row) | {"text": text if error else "", "error": error}
    template = "_conversation_body.html" if "hx-request" in request.headers else "conversation.html"
    return render(request, template, context, status_code=422 if error else 200)


@router.post("/listings/{listing_id}/contact", response_class=HTMLResponse)
def contact_host(
    request: Request, listing_id: UUID, visitor: VisitorDep, form: FormDep
) -> Response:
    """Starts (or adds to) the inquiry about a listing, then opens its thread."""
    actor = visitor.require()
    text = form.get("text", "")[:MAX_TEXT] or "Hello! I have a question about your listing."
    if not _allowed(request, visitor, MESSAGES_LIMIT):
        raise RateLimited("rate_limited", "too many messages at once: wait a moment")
    with command_context(actor, request_id=visitor.request_id):
        conversation_id, _, _, position = visitor.container.conversations.inquire(
            actor, listing_id, text, None, visitor.now
        )
    visitor.read_your_writes(position, "conversations")
    return RedirectResponse(f"/messages/{conversation_id}", status_code=303)


@router.get("/trips/{booking_id}/messages", response_class=HTMLResponse)
def trip_messages(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    """A trip's conversation (the booking's, which exists from its placement)."""
    actor = visitor.require()
    visitor.container.bookings.get(booking_id, viewer=actor)  # 404 when not yours
    conversation_id = booking_conversation_id(booking_id)
    with visitor.container.views.connect() as conn:
        if get_conversation(conn, _tables(visitor), conversation_id) is None:
            raise NotFoundError("conversation_not_found", "this trip's conversation is on its way")
    return RedirectResponse(f"/messages/{conversation_id}", status_code=303)
