"""Live updates over Server-Sent Events: a booking's changes, a user's feed, a listing's
calendar. Authorization is the matching GET's; the stream itself is `interfaces/sse`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Header, Query

from interfaces.http.deps import ContainerDep, OptionalPrincipalDep, PrincipalDep, actor_of
from interfaces.http.problems import ProblemError
from interfaces.sse.stream import EventStream
from projections.live_routes import AVAILABILITY, BOOKING, USER

router = APIRouter(tags=["live updates"])
MAX_POSITION = 2**63 - 1

EVENT_SCHEMA = {  # one event of the stream
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "the event-log position"},
        "event": {
            "type": "string",
            "description": "ready | booking | payment | listing | availability | reset",
        },
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer", "description": "milliseconds before a reconnect"},
    },
    "required": ["event", "data"],
}
STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`text/event-stream`: each event's `id` is its event-log position; "
        "a first `ready` event (its `id` the position the stream is complete up to), then "
        "live events, and a `: heartbeat` comment line every 15 s.",
        "content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
    }
}
LastEventHeader = Header(
    None,
    alias="Last-Event-ID",
    description="Resume: every event after this log position is sent first (EventSource "
    "sends it when it reconnects).",
)
LiveQuery = Query(
    True, description="false: send what came after Last-Event-ID (and `ready`), then end."
)


def resume_position(header: str | None, query: str | None) -> int | None:
    raw = header if header is not None and header.strip() else query
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_POSITION:
        raise ProblemError(
            422, "invalid_last_event_id", "Last-Event-ID must be a non-negative integer"
        )
    return int(raw)


@router.get(
    "/bookings/{booking_id}/events",
    response_class=EventStream,
    status_code=200,
    responses=STREAM_DOC,
    operation_id="booking_events_stream",
)
def booking_events(
    booking_id: UUID,
    container: ContainerDep,
    principal: PrincipalDep,
    last_event_id: str | None = LastEventHeader,
    last_event_id_query: str | None = Query(None, alias="last_event_id", max_length=19),
    live: bool = LiveQuery,
) -> EventStream:
    """Server-Sent Events of the booking's status changes (`event: booking`, with the new
    `status`) and payment changes (`event: payment`), for its renter, its owner and admins
    (404 for anyone else)."""
    container.bookings.get(booking_id, viewer=actor_of(principal))
    after = resume_position(last_event_id, last_event_id_query)
    return EventStream((BOOKING, booking_id), after, live=live)


@router.get(
    "/me/stream",
    response_class=EventStream,
    status_code=200,
    responses=STREAM_DOC,
    operation_id="my_stream",
)
def my_stream(
    principal: PrincipalDep,
    last_event_id: str | None = LastEventHeader,
    last_event_id_query: str | None = Query(None, alias="last_event_id", max_length=19),
    live: bool = LiveQuery,
) -> EventStream:
    """Server-Sent Events for the signed-in user: changes to the bookings they made or
    received (`event: booking` / `payment`, with their `role`) and to their listings
    (`event: listing`)."""
    after = resume_position(last_event_id, last_event_id_query)
    return EventStream((USER, principal.user_id), after, live=live)


@router.get(
    "/listings/{listing_id}/availability/stream",
    response_class=EventStream,
    status_code=200,
    responses=STREAM_DOC,
    operation_id="listing_availability_stream",
)
def availability_stream(
    listing_id: UUID,
    container: ContainerDep,
    principal: OptionalPrincipalDep,
    last_event_id: str | None = LastEventHeader,
    last_event_id_query: str | None = Query(None, alias="last_event_id", max_length=19),
    live: bool = LiveQuery,
) -> EventStream:
    """Server-Sent Events of the listing's calendar (`event: availability`): holds placed,
    extended, confirmed and released, blocks, units, rules and per-date prices, with the
    `dates` (or hourly `slots`) they touch; re-read `GET /listings/{id}/calendar` for
    them. Public for active listings, like the calendar."""
    container.listings.get(listing_id, viewer=actor_of(principal) if principal else None)
    after = resume_position(last_event_id, last_event_id_query)
    return EventStream((AVAILABILITY, listing_id), after, live=live)
