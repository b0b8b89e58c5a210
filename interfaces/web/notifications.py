"""Notifications: the bell (unread count, re-read on each /api/v1/me/stream event), the
list with mark-read, and the preferences page (transactional email locked on), on the
same notification store as `/api/v1/me/notifications`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.errors import DomainError, NotFoundError
from infrastructure.notification_store import NotificationStore
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50


def _store(visitor: Visitor) -> NotificationStore:
    wiring = visitor.container.notifications
    if wiring is None:
        raise NotFoundError("notifications_unavailable", "notifications are not configured")
    return wiring.store


def link_of(data: dict[str, Any]) -> str:
    """Where a notification leads: its conversation, booking or listing (a calendar
    conflict: the host's calendar page, which lists each feed's conflicts)."""
    if data.get("conversation_id"):
        return f"/messages/{data['conversation_id']}"
    if data.get("feed_id") and data.get("listing_id"):
        return f"/host/listings/{data['listing_id']}/calendar"
    if data.get("booking_id"):
        return f"/trips/{data['booking_id']}"
    if data.get("listing_id"):
        return f"/listings/{data['listing_id']}"
    return ""


@router.get("/notifications/bell", response_class=HTMLResponse)
def bell(request: Request, visitor: VisitorDep, after: int = 0) -> Response:
    """The header's bell; `after` (a stream event's position) is waited for, so the count
    includes the notification that event made."""
    if not visitor.signed_in or visitor.container.notifications is None:
        return render(request, "_bell.html", {"unread": 0, "shown": False})
    actor = visitor.require()
    visitor.read_your_writes(max(after, 0), "notifications", timeout=2.0)
    _, unread = _store(visitor).page(actor.id, 0, None)
    return render(request, "_bell.html", {"unread": unread, "shown": True})


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, visitor: VisitorDep) -> Response:
    actor = visitor.require()
    rows, unread = _store(visitor).page(actor.id, PAGE, None)
    items = [row | {"link": link_of(row["data"])} for row in rows[:PAGE]]
    return render(request, "notifications.html", {"items": items, "unread": unread})


@router.post("/notifications/read", response_class=HTMLResponse)
def mark_read(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """`up_to` (the newest position shown) marks all read; `id` marks one."""
    actor = visitor.require()
    up_to, one = form.get("up_to", ""), form.get("id", "")
    ids: list[UUID] = []
    try:
        ids = [UUID(one)] if one else []
    except ValueError:
        raise NotFoundError("notification_not_found", "no such notification") from None
    position = int(up_to) if up_to.isdigit() and len(up_to) < 19 else None
    if position is not None or ids:
        _store(visitor).mark_read(actor.id, up_to=position, ids=ids)
    return RedirectResponse("/notifications", status_code=303)


def _preference_rows(visitor: Visitor, actor_id: UUID) -> list[dict[str, Any]]:
    """One row per kind: its in-app and email settings."""
    rows: dict[str, dict[str, Any]] = {}
    for pref in _store(visitor).preferences(actor_id):
        rows.setdefault(pref["kind"], {"kind": pref["kind"]})[pref["channel"]] = pref
    return list(rows.values())


@router.get("/notifications/preferences", response_class=HTMLResponse)
def preferences_page(request: Request, visitor: VisitorDep) -> Response:
    actor = visitor.require()
    context = {"rows": _preference_rows(visitor, actor.id), "error": "", "saved": False}
    return render(request, "notification_preferences.html", context)


@router.post("/notifications/preferences", response_class=HTMLResponse)
def save_preferences(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """Each checkbox is `kind:channel`; an unchecked unlocked one turns that kind off.
    Locked ones (receipts, security mail) are not in the form and never change."""
    actor = visitor.require()
    store = _store(visitor)
    changes = [
        (pref["kind"], pref["channel"], f"{pref['kind']}:{pref['channel']}" in form)
        for pref in store.preferences(actor.id)
        if not pref["locked"]
    ]
    error = ""
    try:
        store.set_preferences(actor.id, changes)
    except DomainError as problem:
        error = problem.detail
    context = {"rows": _preference_rows(visitor, actor.id), "error": error, "saved": not error}
    return render(
        request, "notification_preferences.html", context, status_code=422 if error else 200
    )
