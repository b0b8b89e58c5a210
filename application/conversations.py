"""Messaging use cases: a renter asks an owner about a listing (an inquiry), the parties of
a booking write to each other, each marks what they have read, and an admin reads a
booking's conversation while a dispute on it is open (that read is itself an event).

A booking's conversation exists with the booking (the conversations view lists it from the
booking's placement); its stream starts with its first event (a message or an admin read).
Callers pass the booking id they know for a conversation whose stream may not exist yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.bookings import Bookings
from application.context import Actor
from application.ports import MediaCatalog
from application.retry import retry_on_conflict
from application.stays import check_media
from application.store import EventStore
from domain import booking as b
from domain.conversation import (
    Conversation,
    booking_conversation_id,
    check_photo_ids,
    inquiry_id,
)
from domain.errors import NotFoundError, RuleViolation
from domain.listing import ACTIVE, Listing


def not_found(conversation_id: UUID) -> NotFoundError:
    return NotFoundError("conversation_not_found", f"conversation {conversation_id} not found")


class Conversations:
    def __init__(
        self, store: EventStore, bookings: Bookings, media: MediaCatalog | None = None
    ) -> None:
        self.store = store
        self.bookings = bookings
        self.media = media

    # -- loading --------------------------------------------------------------------------

    def find(self, conversation_id: UUID) -> Conversation | None:
        try:
            found = self.store.load(conversation_id, "conversation")
        except NotFoundError:
            return None
        return found if isinstance(found, Conversation) else None

    def _of_booking(
        self, conversation_id: UUID, booking_id: UUID | None, actor: Actor
    ) -> Conversation:
        """The booking's conversation, started (not yet saved) when it has no events."""
        if booking_id is None or booking_conversation_id(booking_id) != conversation_id:
            raise not_found(conversation_id)
        try:
            booking = self.bookings.get(booking_id)
        except NotFoundError:
            raise not_found(conversation_id) from None
        return Conversation.start(
            listing_id=booking.listing_id,
            renter_id=booking.renter_id,
            owner_id=booking.owner_id,
            booking_id=booking_id,
            by=actor.id,
            role=actor.role,
            at=booking.placed_at,
        )

    def load(
        self, conversation_id: UUID, actor: Actor, *, booking_id: UUID | None = None
    ) -> Conversation:
        """The conversation (started in memory for a booking's first event), whoever asks."""
        return self.find(conversation_id) or self._of_booking(conversation_id, booking_id, actor)

    # -- parties --------------------------------------------------------------------------

    def inquire(
        self, actor: Actor, listing_id: UUID, text: str, photo_ids: list[UUID] | None, at: datetime
    ) -> tuple[UUID, UUID, bool, int]:
        """The renter asks the listing's owner; one conversation per renter, owner and
        listing: a later inquiry writes to the existing one. Returns (conversation id,
        message id, whether the conversation is new, position)."""

        def attempt() -> tuple[UUID, UUID, bool, int]:
            listing = self.store.load(listing_id, "listing")
            if not isinstance(listing, Listing):
                raise NotFoundError("listing_not_found", f"listing {listing_id} not found")
            conversation_id = inquiry_id(actor.id, listing.owner_id, listing_id)
            conversation = self.find(conversation_id)
            created = conversation is None
            if conversation is None:
                if listing.status != ACTIVE:
                    raise NotFoundError("listing_not_found", f"listing {listing_id} not found")
                conversation = Conversation.start(
                    listing_id=listing_id,
                    renter_id=actor.id,
                    owner_id=listing.owner_id,
                    booking_id=None,
                    by=actor.id,
                    role=actor.role,
                    at=at,
                )
            message_id = self._post(conversation, actor, text, photo_ids, at)
            return conversation_id, message_id, created, self.store.record(conversation)

        return retry_on_conflict(attempt)

    def post(
        self,
        actor: Actor,
        conversation_id: UUID,
        text: str,
        photo_ids: list[UUID] | None,
        at: datetime,
        *,
        booking_id: UUID | None = None,
    ) -> tuple[Conversation, UUID, int]:
        """A party writes to the conversation; 404 for anyone else."""

        def attempt() -> tuple[Conversation, UUID, int]:
            conversation = self.load(conversation_id, actor, booking_id=booking_id)
            conversation.check_party(actor.id)
            message_id = self._post(conversation, actor, text, photo_ids, at)
            return conversation, message_id, self.store.record(conversation)

        return retry_on_conflict(attempt)

    def _post(
        self,
        conversation: Conversation,
        actor: Actor,
        text: str,
        photo_ids: list[UUID] | None,
        at: datetime,
    ) -> UUID:
        message_id = conversation.post(actor.id, text, photo_ids, at)
        check_media(self.media, actor.id, check_photo_ids(photo_ids))
        return message_id

    def mark_read(
        self,
        actor: Actor,
        conversation_id: UUID,
        up_to: int | UUID,
        at: datetime,
        *,
        booking_id: UUID | None = None,
    ) -> tuple[int, int]:
        """The reader has read up to a message (id or position); returns (their read
        mark, position; 0 when the mark did not move)."""

        def attempt() -> tuple[int, int]:
            conversation = self.find(conversation_id)
            if conversation is None:  # a booking's conversation without a message yet
                self._of_booking(conversation_id, booking_id, actor).check_party(actor.id)
                raise RuleViolation("unknown_message", "there are 0 messages")
            conversation.check_party(actor.id)
            mark = conversation.mark_read(actor.id, up_to, at)
            return mark, self.store.record(conversation)

        return retry_on_conflict(attempt)

    # -- reading --------------------------------------------------------------------------

    def open_for_reading(
        self,
        actor: Actor,
        conversation_id: UUID,
        parties: tuple[UUID, UUID],
        at: datetime,
        *,
        booking_id: UUID | None = None,
    ) -> int:
        """Lets the two parties read (nothing recorded); an admin only while a dispute on
        the booking is open, recording that read (403 `no_open_dispute` otherwise); 404 for
        anyone else. Returns the admin read's position (0 for the parties)."""
        if actor.id in parties:
            return 0
        if actor.role != "admin":
            raise not_found(conversation_id)

        def attempt() -> int:
            conversation = self.load(conversation_id, actor, booking_id=booking_id)
            open_dispute = False
            if conversation.booking_id is not None:
                booking = self.bookings.get(conversation.booking_id)
                open_dispute = booking.status == b.DISPUTED
            conversation.record_admin_read(actor.id, actor.role, open_dispute, at)
            return self.store.record(conversation)

        return retry_on_conflict(attempt)


def conversation_public(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "kind": conversation.kind,
        "listing_id": conversation.listing_id,
        "booking_id": conversation.booking_id,
        "renter_id": conversation.renter_id,
        "owner_id": conversation.owner_id,
        "message_count": conversation.message_count,
        "last_activity_at": conversation.last_activity_at,
    }
