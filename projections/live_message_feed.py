"""`GET /me/stream` tells both parties of a conversation that a message was posted.

The text is not in the live event: masking depends on the booking's state, which the
conversations view applies, so clients read the message from
`GET /conversations/{id}/messages` — the stream only says there is something to read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsourcing.utils import get_topic

from domain.conversation import Conversation as _Conversation
from projections.live_feeds import FeedItem
from projections.live_routes import base_payload

Conversation: Any = _Conversation  # @event classes are made at runtime


class MessagesFeed:
    topics: tuple[str, ...] = (get_topic(Conversation.MessagePosted),)

    def items(self, event: Any, position: int) -> Iterable[FeedItem]:
        data = base_payload(event, position) | {
            "conversation_id": str(event.originator_id),
            "message_id": str(event.message_id),
            "sender_id": str(event.sender_id),
            "listing_id": str(event.listing_id),
            "booking_id": str(event.booking_id) if event.booking_id else None,
            "photo_count": len(event.photo_ids),
        }
        return [
            FeedItem(user_id, "message", data | {"mine": user_id == event.sender_id})
            for user_id in (event.recipient_id, event.sender_id)
        ]
