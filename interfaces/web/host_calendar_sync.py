"""Calendar sync on the owner's calendar page: the listing's secret iCal export link (shown,
rotated) and the external feeds it imports (add, list with status and conflicts, sync now,
remove) — the calendar sync use case of `/listings/{id}/calendar-export` and
`/listings/{id}/calendar-feeds`. Ownership is the use case's check (404 for others)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.calendar_sync import CalendarSync
from application.context import command_context
from domain.errors import DomainError, NotFoundError, PermissionDenied
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from projections.calendar_feeds import listing_feeds

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MAX_FEEDS = 10  # as the API: it bounds the fetching an owner can cause
MAX_URL, MAX_NAME = 2000, 100


def _sync(visitor: Visitor) -> CalendarSync:
    sync = visitor.container.calendar_sync
    assert sync is not None, "build_container wires calendar sync"
    return sync


def sync_context(visitor: Visitor, listing_id: UUID) -> dict[str, Any]:
    """The calendar page's export link and feeds (the caller checked ownership)."""
    actor = visitor.require()
    token = _sync(visitor).export_token(actor, listing_id)
    container = visitor.container
    with container.views.connect() as conn:
        feeds = listing_feeds(conn, container.runner.tables("calendar_feeds"), listing_id)
    return {
        "export_path": f"/api/v1/listings/{listing_id}/calendar.ics?token={token}",
        "feeds": feeds,
    }


def back(listing_id: UUID) -> Response:
    return RedirectResponse(f"/host/listings/{listing_id}/calendar#sync", status_code=303)


@router.post("/host/listings/{listing_id}/calendar-export/rotate", response_class=HTMLResponse)
def rotate(listing_id: UUID, visitor: VisitorDep, _form: FormDep) -> Response:
    """A new export link; the old one stops working at once."""
    actor = visitor.require()
    with command_context(actor, request_id=visitor.request_id):
        _, position = _sync(visitor).rotate_export(actor, listing_id, visitor.now)
    visitor.read_your_writes(position)
    return back(listing_id)


def add_feed(
    visitor: Visitor, listing_id: UUID, form: dict[str, str]
) -> tuple[int, dict[str, str]]:
    """Imports a feed: (position, errors) — a bad URL or name is its field's error, so the
    calendar page (host.py, which owns the form's route) shows it with the input kept."""
    actor = visitor.require()
    url, name = form.get("feed_url", ""), form.get("feed_name", "")
    errors: dict[str, str] = {}
    if not url or len(url) > MAX_URL:
        errors["feed_url"] = "Paste the calendar's iCal address (http, https or webcal)."
    if not name or len(name) > MAX_NAME:
        errors["feed_name"] = f"Name it (at most {MAX_NAME} characters), e.g. Airbnb."
    container = visitor.container
    with container.views.connect() as conn:
        live = listing_feeds(conn, container.runner.tables("calendar_feeds"), listing_id)
    if len(live) >= MAX_FEEDS:
        errors["feed_url"] = f"A listing imports at most {MAX_FEEDS} calendars."
    if errors:
        return 0, errors
    try:
        with command_context(actor, request_id=visitor.request_id):
            _, position = _sync(visitor).add_feed(actor, listing_id, url, name, visitor.now)
    except (NotFoundError, PermissionDenied):
        raise
    except DomainError as error:
        return 0, {"feed_url": error.detail}
    return position, {}


@router.post(
    "/host/listings/{listing_id}/calendar-feeds/{feed_id}/sync", response_class=HTMLResponse
)
def sync_now(listing_id: UUID, feed_id: UUID, visitor: VisitorDep, _form: FormDep) -> Response:
    """Fetches the feed now; a fetch error shows as the feed's status, changing no block."""
    actor = visitor.require()
    with command_context(actor, request_id=visitor.request_id):
        position = _sync(visitor).sync_now(actor, listing_id, feed_id, visitor.now)
    visitor.read_your_writes(position, "calendar_feeds", "availability")
    return back(listing_id)


@router.post(
    "/host/listings/{listing_id}/calendar-feeds/{feed_id}/remove", response_class=HTMLResponse
)
def remove(listing_id: UUID, feed_id: UUID, visitor: VisitorDep, _form: FormDep) -> Response:
    """Stops importing the feed and removes every block it made."""
    actor = visitor.require()
    with command_context(actor, request_id=visitor.request_id):
        position = _sync(visitor).remove_feed(actor, listing_id, feed_id, visitor.now)
    visitor.read_your_writes(position, "calendar_feeds", "availability")
    return back(listing_id)
