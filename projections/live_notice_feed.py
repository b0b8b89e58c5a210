"""`GET /me/stream` also tells users of what else they are notified about: dispute changes,
published reviews and reminders (bookings, payments, listings and messages have feeds of
their own). Each is a signal to read `GET /me/notifications`, whose rows say exactly who was
told what; a reminder is sent to both parties of its booking, with its kind."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.dispute import Dispute as _Dispute
from domain.reminders import Reminder as _Reminder
from domain.review import BookingReviews as _BookingReviews
from projections.live_feeds import FeedItem
from projections.live_origins import Origins
from projections.live_routes import base_payload, event_topics

# @event classes are made at runtime, where mypy cannot see them.
Dispute: Any = _Dispute
Reminder: Any = _Reminder
BookingReviews: Any = _BookingReviews


class NoticesFeed:
    topics: tuple[str, ...] = (
        *event_topics(_Dispute, _Reminder),
        *(t for t in event_topics(_BookingReviews) if t.endswith(".Published")),
    )

    def __init__(self, origins: Origins) -> None:
        self.origins = origins

    def items(self, event: Any, position: int) -> Iterable[FeedItem]:
        data = base_payload(event, position)
        if isinstance(event, BookingReviews.Published):
            data |= {"listing_id": str(event.listing_id)}
            reviewees = dict.fromkeys(r["reviewee_id"] for r in event.ratings)
            return [FeedItem(user, "review", data) for user in reviewees]
        if isinstance(event, Dispute.Event):
            origin, kind = self.origins.of(event.originator_id), "dispute"
            data |= {"dispute_id": str(event.originator_id)}
        elif isinstance(event, Reminder.Issued):
            origin, kind = self.origins.of(event.booking_id), "reminder"
            data |= {"reminder": event.kind}
        else:
            return []
        if origin is None or origin.booking_id is None:
            return []
        data |= {"booking_id": str(origin.booking_id)}
        parties = (origin.renter_id, origin.owner_id)
        return [FeedItem(user, kind, data) for user in parties if user is not None]
