"""Live updates: which SSE channels an event reaches, and what each one is told.

A channel is `(kind, id)`: `("booking", booking_id)` hears the booking's status and payment
changes, `("availability", listing_id)` the listing's calendar, `("user", user_id)` whatever
the user feeds (`projections/live_feeds.py`) give that user. Routing is a pure function of
the event plus the first event of its stream (who a booking, payment or calendar belongs
to), so the live tail and a reconnecting client's replay of the log give the same deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.booking import Booking as _Booking
from domain.calendar import ListingCalendar
from domain.listing import Listing as _Listing
from domain.payment import Payment
from projections.bookings import STATUS_AFTER
from projections.live_origins import Origins

# @event classes are made at runtime, where mypy cannot see them.
Booking: Any = _Booking
Listing: Any = _Listing
BOOKING, AVAILABILITY, USER = "booking", "availability", "user"
CHANNEL_KINDS = (BOOKING, AVAILABILITY, USER)
Channel = tuple[str, UUID]


@dataclass(frozen=True)
class Delivery:
    """One SSE event for one channel; `position` (the log's) is its `id`."""

    position: int
    channel: Channel
    kind: str  # the SSE `event:` name
    data: dict[str, Any]


class Route(Protocol):
    channel_kind: str
    topics: tuple[str, ...]

    def deliveries(self, event: Any, position: int) -> Iterable[Delivery]: ...


def event_topics(*aggregates: type[Aggregate]) -> tuple[str, ...]:
    """Every event class topic of these aggregates (what the log stores as `topic`)."""
    return tuple(
        get_topic(value)
        for aggregate in aggregates
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, Aggregate.Event)
    )


def event_name(event: Any) -> str:
    """`Booking.Confirmed`: the aggregate and the event, as clients switch on it."""
    return type(event).__qualname__


def instant(value: Any) -> str | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return None


def base_payload(event: Any, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "type": event_name(event),
        "version": event.originator_version,
        "at": instant(getattr(event, "at", None)) or instant(event.timestamp),
    }


def booking_payload(event: Any, position: int) -> dict[str, Any]:
    data = base_payload(event, position) | {"booking_id": str(event.originator_id)}
    status = getattr(event, "status", None) if isinstance(event, Booking.Placed) else None
    status = STATUS_AFTER.get(type(event), status)
    if status is not None:
        data["status"] = status
    for field in ("role", "reason"):
        value = getattr(event, field, None)
        if value:
            data["by_role" if field == "role" else field] = value
    return data


def payment_payload(event: Any, position: int, booking_id: UUID) -> dict[str, Any]:
    return base_payload(event, position) | {
        "booking_id": str(booking_id),
        "payment_id": str(event.originator_id),
    }


BOOKING_TOPICS = event_topics(Booking)
PAYMENT_TOPICS = event_topics(Payment)
CALENDAR_TOPICS = event_topics(ListingCalendar)
PRICE_TOPICS = (get_topic(Listing.PriceOverrideSet), get_topic(Listing.PriceOverrideCleared))


class BookingRoute:
    """`GET /bookings/{id}/events`: the booking's own events and its payment's."""

    channel_kind = BOOKING
    topics = BOOKING_TOPICS + PAYMENT_TOPICS

    def __init__(self, origins: Origins) -> None:
        self.origins = origins

    def deliveries(self, event: Any, position: int) -> Iterable[Delivery]:
        if isinstance(event, Booking.Event):
            channel = (BOOKING, event.originator_id)
            return [Delivery(position, channel, "booking", booking_payload(event, position))]
        origin = self.origins.of(event.originator_id)
        if origin is None or origin.booking_id is None:
            return []
        data = payment_payload(event, position, origin.booking_id)
        return [Delivery(position, (BOOKING, origin.booking_id), "payment", data)]


class AvailabilityRoute:
    """`GET /listings/{id}/availability/stream`: calendar changes (holds, reservations,
    releases, blocks, units, rules) and per-date price overrides, with the dates (or the
    slot starts) they touch when the event says so."""

    channel_kind = AVAILABILITY
    topics = CALENDAR_TOPICS + PRICE_TOPICS

    def __init__(self, origins: Origins) -> None:
        self.origins = origins

    def deliveries(self, event: Any, position: int) -> Iterable[Delivery]:
        data = base_payload(event, position)
        if isinstance(event, Listing.Event):  # a price override: one date
            listing_id = event.originator_id
            data["dates"] = [event.day]
        else:
            origin = self.origins.of(event.originator_id)
            if origin is None or origin.listing_id is None:
                return []
            listing_id = origin.listing_id
            booking_id = getattr(event, "booking_id", None)
            if booking_id is not None:
                data["booking_id"] = str(booking_id)
            keys = getattr(event, "keys", None)
            if keys is None and booking_id is not None:
                keys = self.origins.hold_keys(event.originator_id, booking_id, event)
            if keys is not None:
                data.update(keys_payload(origin.unit, keys))
        data["listing_id"] = str(listing_id)
        return [Delivery(position, (AVAILABILITY, listing_id), "availability", data)]


def keys_payload(unit: str | None, keys: Sequence[int]) -> dict[str, list[str]]:
    """Calendar keys as the calendar endpoint names them: local dates for nights and days,
    UTC slot starts for hours."""
    if unit == "hour":
        return {"slots": [datetime.fromtimestamp(k, UTC).isoformat() for k in keys]}
    return {"dates": [date.fromordinal(k).isoformat() for k in keys]}


class Router:
    """All routes: the deliveries of an event, and the topics a channel kind reads."""

    def __init__(self, routes: Sequence[Route], origins: Origins | None = None) -> None:
        self.routes = list(routes)
        self.origins = origins  # taught by every event read, to save look-ups
        self._by_topic: dict[str, list[Route]] = {}
        for route in self.routes:
            for topic in route.topics:
                self._by_topic.setdefault(topic, []).append(route)
        self.topics = tuple(self._by_topic)

    def topics_for(self, kind: str) -> tuple[str, ...]:
        found = {t for r in self.routes if r.channel_kind == kind for t in r.topics}
        return tuple(sorted(found))

    def wants(self, topic: str) -> bool:
        return topic in self._by_topic

    def route(
        self, event: Any, topic: str, position: int, kind: str | None = None
    ) -> list[Delivery]:
        out: list[Delivery] = []
        for route in self._by_topic.get(topic, ()):
            if kind is None or route.channel_kind == kind:
                out.extend(route.deliveries(event, position))
        return out
