"""The admin's pages (/admin): the listing review queue (approve, reject with a reason) and
a booking's audit timeline, with a date-time picker that shows the booking as it was at any
instant — read from the event store the way the admin API's history and time travel do."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import command_context
from application.time_travel import state_at, version_at
from domain.errors import DomainError, NotFoundError, RuleViolation
from domain.event_meta import event_meta
from interfaces.web.paging import PAGE_SIZE, Pager, pager, read_cursor
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render
from projections.keyset import KeysetPage, keyset_page
from projections.listings import listing_public

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_SECRET_WORDS = ("password", "secret", "token", "hash")
_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "_meta"})
STATE_FIELDS = (
    "status", "status_reason", "start", "end", "guests", "quantity",
    "refund_due", "payment_id", "updated_at",
)  # fmt: skip


def _review_queue(request: Request, visitor: Visitor, cursor: str = "") -> dict[str, Any]:
    """Listings waiting for review, newest first (as `GET /admin/listings`), 50 a page."""
    bounds = read_cursor(cursor)
    container = visitor.container
    table = container.runner.tables("listings")["listings"]
    with container.views.connect() as conn:
        page = keyset_page(
            conn, table, [table.c.status == "pending_review"], (table.c.created_at, table.c.id),
            descending=True, limit=PAGE_SIZE, after=bounds.after, before=bounds.before,
        )  # fmt: skip
    return {"queue": [listing_public(r) for r in page.rows], "pages": pager(request, page)}


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, visitor: VisitorDep, cursor: str = "") -> Response:
    visitor.require_admin()
    context = _review_queue(request, visitor, cursor) | {"errors": {}, "values": {}}
    return render(request, "admin.html", context)


@router.post("/admin/listings/{listing_id}", response_class=HTMLResponse)
def review(request: Request, listing_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    """Approve, or reject with the reason the owner sees (the API's admin use cases)."""
    actor = visitor.require_admin()
    listings = visitor.container.listings
    reason = form.get("reason", "")[:2000]
    if form.get("decision") == "reject" and not reason:
        errors = {f"reason-{listing_id}": "Say why, so the owner can fix it."}
        context = _review_queue(request, visitor) | {"errors": errors}
        return render(request, "admin.html", context, status_code=422)
    with command_context(actor, request_id=visitor.request_id):
        if form.get("decision") == "approve":
            position = listings.approve(actor, listing_id, visitor.now)
        else:
            position = listings.reject(actor, listing_id, reason, visitor.now)
    visitor.read_your_writes(position, "listings")
    return RedirectResponse("/admin", status_code=303)


@router.get("/admin/bookings", response_class=HTMLResponse)
def open_booking(visitor: VisitorDep, id: str = "") -> Response:
    """The "open a booking's timeline" box."""
    visitor.require_admin()
    try:
        return RedirectResponse(f"/admin/bookings/{UUID(id.strip())}", status_code=303)
    except ValueError:
        raise NotFoundError("booking_not_found", "that is not a booking id") from None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _end_of_shown_unit(text: str, instant: datetime) -> datetime:
    """The picker shows milliseconds at most: "…:27.778" means up to the end of that
    millisecond (of that second or minute when less is given)."""
    if "." in text:
        return instant + timedelta(microseconds=999)
    return (
        instant
        + (timedelta(seconds=1) if text.count(":") == 2 else timedelta(minutes=1))
        - timedelta(microseconds=1)
    )


def _shown(key: str, value: Any) -> str:
    if any(word in key.lower() for word in _SECRET_WORDS):
        return "(redacted)"
    if value is None or value == "":
        return "—"
    text = str(value)
    return text if len(text) <= 300 else text[:300] + "…"


def timeline(visitor: Visitor, stream_id: UUID, kind: str = "booking") -> list[dict[str, Any]]:
    events = list(visitor.container.store.events.get(stream_id))
    if not events:
        raise NotFoundError(f"{kind}_not_found", f"{kind} {stream_id} not found")
    rows = []
    for event in events:
        meta = event_meta(event)
        payload = {k: _shown(k, v) for k, v in vars(event).items() if k not in _ENVELOPE}
        rows.append(
            {
                "version": event.originator_version,
                "type": type(event).__qualname__,
                "at": _utc(event.timestamp),  # type: ignore[attr-defined]
                "actor": meta.get("actor_id") or "system",
                "role": meta.get("actor_role") or "system",
                "correlation": meta.get("correlation_id") or "",
                "payload": payload,
            }
        )
    return rows


def event_page(
    request: Request, events: list[dict[str, Any]], chosen: int, cursor: str
) -> tuple[list[dict[str, Any]], Pager]:
    """50 events of a timeline: after or before a version (the cursor), else the 50 that
    hold the chosen version; with the links to the neighbouring pages."""
    bounds = read_cursor(cursor)
    versions = [e["version"] for e in events]
    try:
        if bounds.after is not None:
            start = bisect_right(versions, int(*bounds.after))
            end = start + PAGE_SIZE
        elif bounds.before is not None:
            end = bisect_left(versions, int(*bounds.before))
            start = max(end - PAGE_SIZE, 0)
        else:
            start = versions.index(chosen)
            start, end = start - start % PAGE_SIZE, start - start % PAGE_SIZE + PAGE_SIZE
    except (TypeError, ValueError):
        raise RuleViolation("bad_cursor", "that page link is not one this site made") from None
    shown = events[start:end]
    page = KeysetPage(
        rows=shown,
        next_key=[str(shown[-1]["version"])] if shown and end < len(events) else None,
        prev_key=[str(shown[0]["version"])] if shown and start > 0 else None,
    )
    return shown, pager(request, page)


@router.get("/admin/bookings/{booking_id}", response_class=HTMLResponse)
def booking_audit(
    request: Request,
    booking_id: UUID,
    visitor: VisitorDep,
    at: str = "",
    version: str = "",
    cursor: str = "",
) -> Response:
    """Every event of the booking with who, when and why, 50 a page; the state at `at`
    (UTC, from the picker) or after `version`, else now."""
    visitor.require_admin()
    events = timeline(visitor, booking_id)
    error, chosen = "", events[-1]["version"]
    if at:
        try:
            instant = _end_of_shown_unit(at, _utc(datetime.fromisoformat(at)))
        except ValueError:
            error = "Enter a date and time."
        else:
            found = version_at(visitor.container.store, booking_id, instant)
            if found is None:
                error = "The booking did not exist yet at that instant."
            else:
                chosen = found
    elif version.isdigit():
        chosen = min(max(int(version), 1), events[-1]["version"])
    state: dict[str, str] = {}
    if not error:
        try:
            booking: Any = state_at(visitor.container.store, booking_id, version=chosen)
            state = {k: _shown(k, getattr(booking, k, "")) for k in STATE_FIELDS}
        except DomainError as problem:
            error = problem.detail
    picked = next(e for e in events if e["version"] == chosen)
    shown, pages = event_page(request, events, chosen, cursor)
    context = {
        "kind": "booking",
        "booking_id": booking_id,
        "events": shown,
        "pages": pages,
        "state": state,
        "chosen": chosen,
        "picked_at": picked["at"],
        "at_value": at or picked["at"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:23],
        "errors": {"at": error} if error else {},
    }
    return render(request, "admin_booking.html", context, status_code=422 if error else 200)
