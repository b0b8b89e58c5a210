"""Calendar sync endpoints: a listing's secret iCal export link, and the external iCal
feeds its owner imports (fetched on a schedule, or now on request)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from application.calendar_sync import CalendarSync
from domain.errors import ConflictError
from interfaces.http.calendar_sync_schemas import (
    CalendarExportPublic,
    CalendarFeedCreate,
    CalendarFeedPublic,
    CalendarFeedsPublic,
)
from interfaces.http.deps import ActorDep, CommandDep, ContainerDep, Now
from interfaces.http.positions import min_position, set_position
from interfaces.http.schemas_common import Ack, problem_responses
from projections.calendar_feeds import listing_feeds

router = APIRouter(tags=["calendar sync"], responses=problem_responses(401, 403, 404, 409, 422))
ICS = "text/calendar; charset=utf-8"
MAX_FEEDS = 10  # a soft limit read from the view: it bounds the fetching an owner can cause


def get_calendar_sync(container: ContainerDep) -> CalendarSync:
    assert container.calendar_sync is not None, "build_container wires calendar sync"
    return container.calendar_sync


CalendarSyncDep = Annotated[CalendarSync, Depends(get_calendar_sync)]


def _export(listing_id: UUID, token: str) -> CalendarExportPublic:
    path = f"/api/v1/listings/{listing_id}/calendar.ics?token={token}"
    return CalendarExportPublic(token=token, path=path)


@router.get(
    "/listings/{listing_id}/calendar.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "An iCalendar feed"}},
)
def calendar_ics(
    listing_id: UUID,
    sync: CalendarSyncDep,
    now: Now,
    token: Annotated[str, Query(min_length=1, max_length=100, description="The link's secret")],
) -> Response:
    """The listing's booked (held or reserved) and blocked periods as an RFC 5545 feed, for
    other platforms' calendar import: all-day events for nightly and daily listings, UTC
    times for hourly ones, one stable UID per booking or block. No sign-in: the token is
    the secret (404 for a wrong, rotated or missing one)."""
    body = sync.export(listing_id, token, now)
    headers = {"Cache-Control": "private, no-cache", "X-Robots-Tag": "noindex"}
    return Response(content=body, media_type=ICS, headers=headers)


@router.get("/listings/{listing_id}/calendar-export", response_model=CalendarExportPublic)
def calendar_export(listing_id: UUID, actor: ActorDep, sync: CalendarSyncDep) -> Any:
    """The listing's secret export link (owner)."""
    return _export(listing_id, sync.export_token(actor, listing_id))


@router.post("/listings/{listing_id}/calendar-export/rotate", response_model=CalendarExportPublic)
def rotate_calendar_export(
    listing_id: UUID, command: CommandDep, sync: CalendarSyncDep, response: Response
) -> Any:
    """A new secret export link (owner); the old one stops working at once."""
    with command.context():
        token, position = sync.rotate_export(command.actor, listing_id, command.now)
    set_position(response, position)
    return _export(listing_id, token)


@router.post(
    "/listings/{listing_id}/calendar-feeds",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedPublic,
)
def add_calendar_feed(
    listing_id: UUID,
    body: CalendarFeedCreate,
    command: CommandDep,
    sync: CalendarSyncDep,
    response: Response,
) -> Any:
    """Imports an external iCal feed into the listing's calendar (owner): it is fetched
    at once by the scheduler and then every 30 minutes; its events become blocks, an
    event removed from the feed loses its block, and an event overlapping a Rentbook
    booking is listed in `conflicts` (its free part still blocked). At most 10 feeds per
    listing (409 `too_many_feeds`)."""
    container = command.container
    with container.views.connect() as conn:
        live = listing_feeds(conn, container.runner.tables("calendar_feeds"), listing_id)
    if len(live) >= MAX_FEEDS:
        raise ConflictError("too_many_feeds", f"a listing imports at most {MAX_FEEDS} feeds")
    with command.context():
        feed_id, position = sync.add_feed(
            command.actor, listing_id, body.url, body.name, command.now
        )
    set_position(response, position)
    response.headers["Location"] = f"/api/v1/listings/{listing_id}/calendar-feeds/{feed_id}"
    return CalendarFeedPublic.of_feed(sync.feed(command.actor, listing_id, feed_id))


@router.get(
    "/listings/{listing_id}/calendar-feeds",
    response_model=CalendarFeedsPublic,
    dependencies=[Depends(min_position("calendar_feeds"))],
)
def calendar_feeds(
    listing_id: UUID, actor: ActorDep, sync: CalendarSyncDep, container: ContainerDep
) -> Any:
    """The listing's feeds with their status: last fetch, last error, conflicts (owner)."""
    sync.export_token(actor, listing_id)  # the ownership check
    with container.views.connect() as conn:
        rows = listing_feeds(conn, container.runner.tables("calendar_feeds"), listing_id)
    return CalendarFeedsPublic(data=[CalendarFeedPublic.of(r) for r in rows])


@router.get("/listings/{listing_id}/calendar-feeds/{feed_id}", response_model=CalendarFeedPublic)
def calendar_feed(listing_id: UUID, feed_id: UUID, actor: ActorDep, sync: CalendarSyncDep) -> Any:
    """One feed and its status (owner)."""
    return CalendarFeedPublic.of_feed(sync.feed(actor, listing_id, feed_id))


@router.post(
    "/listings/{listing_id}/calendar-feeds/{feed_id}/sync", response_model=CalendarFeedPublic
)
def sync_calendar_feed(
    listing_id: UUID, feed_id: UUID, command: CommandDep, sync: CalendarSyncDep, response: Response
) -> Any:
    """Fetches the feed now rather than at its next turn (owner); a fetch or parse error
    is reported in `status`/`last_error` and changes no block."""
    with command.context():
        position = sync.sync_now(command.actor, listing_id, feed_id, command.now)
    set_position(response, position)
    return CalendarFeedPublic.of_feed(sync.feed(command.actor, listing_id, feed_id))


@router.delete("/listings/{listing_id}/calendar-feeds/{feed_id}", response_model=Ack)
def remove_calendar_feed(
    listing_id: UUID, feed_id: UUID, command: CommandDep, sync: CalendarSyncDep, response: Response
) -> Ack:
    """Stops importing the feed and removes every block it made (owner)."""
    with command.context():
        position = sync.remove_feed(command.actor, listing_id, feed_id, command.now)
    set_position(response, position)
    return Ack(id=feed_id, status="removed")
