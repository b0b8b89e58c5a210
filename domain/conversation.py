"""A conversation between a renter and an owner: an inquiry about a listing before any
booking (one per renter, owner and listing), or the one of a booking (one per booking).

Both ids are derived (uuid5), so "one per pair and listing" and "one per booking" hold by
construction: a second start of the same conversation conflicts in the event store.
Messages, read marks and the admin reads of a dispute are events on the conversation's
stream; each message gets a sequence number (1, 2, ...) and an id derived from it.
Time comes in as an argument; the aggregate never reads a clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFoundError, PermissionDenied, RuleViolation

INQUIRY, BOOKING = "inquiry", "booking"
RENTER, OWNER = "renter", "owner"
MAX_TEXT = 4000
MAX_PHOTOS = 10
# An inquiry the owner has not answered within this long counts against the response rate,
# as a booking request does when it expires unanswered.
REPLY_WINDOW = timedelta(hours=24)
_NAMESPACE = uuid5(NAMESPACE_URL, "https://rentbook.dev/conversations")


def inquiry_id(renter_id: UUID, owner_id: UUID, listing_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"inquiry/{renter_id}/{owner_id}/{listing_id}")


def booking_conversation_id(booking_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"booking/{booking_id}")


def message_id_for(conversation_id: UUID, seq: int) -> UUID:
    return uuid5(_NAMESPACE, f"{conversation_id}/message/{seq}")


def check_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation("text_required", "a message needs some text")
    if len(value) > MAX_TEXT:
        raise RuleViolation("text_too_long", f"a message is at most {MAX_TEXT} characters")
    return value


def check_photo_ids(value: Any) -> list[UUID]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_PHOTOS:
        raise RuleViolation("bad_photos", f"a message has at most {MAX_PHOTOS} photo ids")
    if not all(isinstance(v, UUID) for v in value):
        raise RuleViolation("bad_photos", "photo ids are media ids")
    return list(dict.fromkeys(value))  # each photo once, in the order given


class Conversation(Aggregate):
    @staticmethod
    def create_id(
        kind: str,
        listing_id: UUID,
        renter_id: UUID,
        owner_id: UUID,
        booking_id: UUID | None,
        **_: Any,
    ) -> UUID:
        if kind == BOOKING:
            assert booking_id is not None
            return booking_conversation_id(booking_id)
        return inquiry_id(renter_id, owner_id, listing_id)

    @classmethod
    def start(
        cls,
        *,
        listing_id: UUID,
        renter_id: UUID,
        owner_id: UUID,
        booking_id: UUID | None,
        by: UUID,
        role: str,
        at: datetime,
    ) -> Conversation:
        """The inquiry (no booking) or the booking's conversation, before its first event."""
        if renter_id == owner_id:
            raise RuleViolation("own_listing", "owners do not write to themselves")
        return cls(
            kind=BOOKING if booking_id else INQUIRY,
            listing_id=listing_id,
            renter_id=renter_id,
            owner_id=owner_id,
            booking_id=booking_id,
            by=by,
            role=role,
            at=at,
        )

    @event("Started")
    def __init__(
        self,
        kind: str,
        listing_id: UUID,
        renter_id: UUID,
        owner_id: UUID,
        booking_id: UUID | None,
        by: UUID,
        role: str,
        at: datetime,
    ) -> None:
        self.kind = kind
        self.listing_id, self.booking_id = listing_id, booking_id
        self.renter_id, self.owner_id = renter_id, owner_id
        self.started_at = at
        self.message_count = 0
        self.message_seqs: dict[UUID, int] = {}
        self.read_up_to: dict[UUID, int] = {}  # user -> last message seq they read
        self.last_activity_at = at

    # -- queries ------------------------------------------------------------------------

    def side_of(self, user_id: UUID) -> str | None:
        return {self.renter_id: RENTER, self.owner_id: OWNER}.get(user_id)

    def check_party(self, user_id: UUID) -> str:
        """The caller's side; 404 for anyone else, so conversation ids cannot be probed."""
        side = self.side_of(user_id)
        if side is None:
            raise NotFoundError("conversation_not_found", f"conversation {self.id} not found")
        return side

    def other_party(self, user_id: UUID) -> UUID:
        return self.owner_id if user_id == self.renter_id else self.renter_id

    # -- commands -----------------------------------------------------------------------

    def post(self, sender_id: UUID, text: Any, photo_ids: Any, at: datetime) -> UUID:
        """A party writes; returns the new message's id."""
        side = self.check_party(sender_id)
        seq = self.message_count + 1
        message_id = message_id_for(self.id, seq)
        self._message_posted(
            message_id=message_id,
            seq=seq,
            sender_id=sender_id,
            sender_role=side,
            recipient_id=self.other_party(sender_id),
            text=check_text(text),
            photo_ids=check_photo_ids(photo_ids),
            listing_id=self.listing_id,
            booking_id=self.booking_id,
            posted_at=at,
        )
        return message_id

    @event("MessagePosted")
    def _message_posted(
        self,
        message_id: UUID,
        seq: int,
        sender_id: UUID,
        sender_role: str,
        recipient_id: UUID,
        text: str,
        photo_ids: list[UUID],
        listing_id: UUID,
        booking_id: UUID | None,
        posted_at: datetime,
    ) -> None:
        self.message_count = seq
        self.message_seqs[message_id] = seq
        self.last_activity_at = posted_at

    def mark_read(self, reader_id: UUID, up_to: int | UUID, at: datetime) -> int:
        """The reader has read every message up to `up_to` (a message id or sequence
        number); returns their read mark. Marking an earlier point records nothing."""
        self.check_party(reader_id)
        if isinstance(up_to, UUID):
            if up_to not in self.message_seqs:
                raise RuleViolation(
                    "unknown_message", f"message {up_to} is not in this conversation"
                )
            seq = self.message_seqs[up_to]
        elif isinstance(up_to, bool) or not isinstance(up_to, int) or up_to < 1:
            raise RuleViolation("bad_up_to", "up_to is a message id or a position from 1")
        elif up_to > self.message_count:
            raise RuleViolation("unknown_message", f"there are {self.message_count} messages")
        else:
            seq = up_to
        if seq > self.read_up_to.get(reader_id, 0):
            self._read_marked(reader_id, seq, at)
        return self.read_up_to.get(reader_id, 0)

    @event("ReadMarked")
    def _read_marked(self, reader_id: UUID, up_to: int, at: datetime) -> None:
        self.read_up_to[reader_id] = up_to

    def record_admin_read(
        self, admin_id: UUID, role: str, dispute_open: bool, at: datetime
    ) -> None:
        """An admin reads the conversation of a booking under an open dispute; the read
        itself is an event, so the audit log shows who read what and when."""
        if role != "admin":
            raise PermissionDenied("admin_required", "only an admin reads others' conversations")
        if self.booking_id is None or not dispute_open:
            raise PermissionDenied(
                "no_open_dispute",
                "admins read a conversation only while a dispute on its booking is open",
            )
        self._admin_read(admin_id, role, self.booking_id, at)

    @event("AdminRead")
    def _admin_read(self, by: UUID, role: str, booking_id: UUID, at: datetime) -> None:
        pass
