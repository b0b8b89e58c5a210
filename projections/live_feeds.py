"""`GET /me/stream`: user feeds say, for an event, which users see it and what they are told.

A feed is small: the topics it reads and `items(event, position)`. `UserFeedRoute` turns the
items of every feed into deliveries on `("user", user_id)` channels. To add notifications or
messages, write a feed and append it where the feeds are listed
(`infrastructure/live_wiring.py`, `user_feeds`):

    class MessagesFeed:
        topics = event_topics(Conversation)
        def items(self, event, position):
            return [FeedItem(user, "message", {...}) for user in event.parties]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.booking import Booking
from domain.listing import Listing
from projections.live_origins import Origins
from projections.live_routes import (
    BOOKING_TOPICS,
    PAYMENT_TOPICS,
    USER,
    Delivery,
    base_payload,
    booking_payload,
    event_topics,
    payment_payload,
)


@dataclass(frozen=True)
class FeedItem:
    user_id: UUID
    kind: str  # the SSE `event:` name
    data: dict[str, Any]


class UserFeed(Protocol):
    topics: tuple[str, ...]

    def items(self, event: Any, position: int) -> Iterable[FeedItem]: ...


class PartiesFeed:
    """The user's bookings, as renter and as owner (their status and payment changes), and
    the user's listings (review outcomes, edits, status)."""

    topics = BOOKING_TOPICS + PAYMENT_TOPICS + event_topics(Listing)

    def __init__(self, origins: Origins) -> None:
        self.origins = origins

    def items(self, event: Any, position: int) -> Iterable[FeedItem]:
        if isinstance(event, Listing.Event):
            origin = self.origins.of(event.originator_id)
            if origin is None or origin.owner_id is None:
                return []
            data = base_payload(event, position) | {"listing_id": str(event.originator_id)}
            return [FeedItem(origin.owner_id, "listing", data)]
        origin = self.origins.of(event.originator_id)
        if origin is None or origin.booking_id is None:
            return []
        if isinstance(event, Booking.Event):
            data, kind = booking_payload(event, position), "booking"
        else:
            data, kind = payment_payload(event, position, origin.booking_id), "payment"
        parties = (("renter", origin.renter_id), ("owner", origin.owner_id))
        return [
            FeedItem(user_id, kind, data | {"role": role})
            for role, user_id in parties
            if user_id is not None
        ]


class UserFeedRoute:
    channel_kind = USER

    def __init__(self, feeds: Sequence[UserFeed]) -> None:
        self.feeds = list(feeds)
        self.topics = tuple(dict.fromkeys(t for feed in self.feeds for t in feed.topics))

    def deliveries(self, event: Any, position: int) -> Iterable[Delivery]:
        topic = get_topic(type(event))
        for feed in self.feeds:
            if topic in feed.topics:
                for item in feed.items(event, position):
                    yield Delivery(position, (USER, item.user_id), item.kind, item.data)
