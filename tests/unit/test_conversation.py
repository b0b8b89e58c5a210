"""Conversation rules: given a conversation, when a party (or an admin) acts, then events
or an error; and the use cases on the in-memory store (one inquiry per pair and listing,
a booking's conversation, photos checked through the media catalog)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.context import Actor
from application.conversations import Conversations
from domain.conversation import (
    BOOKING,
    INQUIRY,
    MAX_TEXT,
    Conversation,
    booking_conversation_id,
    inquiry_id,
    message_id_for,
)
from domain.errors import NotFoundError, PermissionDenied, RuleViolation
from tests.builders import NOW, make_world

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
RENTER_ID, OWNER_ID, LISTING_ID, ADMIN_ID = uuid4(), uuid4(), uuid4(), uuid4()


def inquiry() -> Conversation:
    conversation = Conversation.start(
        listing_id=LISTING_ID,
        renter_id=RENTER_ID,
        owner_id=OWNER_ID,
        booking_id=None,
        by=RENTER_ID,
        role="user",
        at=AT,
    )
    conversation.collect_events()
    return conversation


def of_booking(booking_id: UUID) -> Conversation:
    return Conversation.start(
        listing_id=LISTING_ID,
        renter_id=RENTER_ID,
        owner_id=OWNER_ID,
        booking_id=booking_id,
        by=RENTER_ID,
        role="user",
        at=AT,
    )


def test_ids_are_derived_one_per_pair_and_listing_and_one_per_booking() -> None:
    assert inquiry().id == inquiry_id(RENTER_ID, OWNER_ID, LISTING_ID)
    assert inquiry().kind == INQUIRY
    booking_id = uuid4()
    assert of_booking(booking_id).id == booking_conversation_id(booking_id)
    assert of_booking(booking_id).kind == BOOKING
    assert inquiry_id(RENTER_ID, OWNER_ID, uuid4()) != inquiry().id


def test_a_party_posts_a_message_with_sender_recipient_text_photos_and_instant() -> None:
    conversation = inquiry()
    photo = uuid4()
    message_id = conversation.post(OWNER_ID, "Yes, it is free.", [photo, photo], AT)
    (event,) = conversation.collect_events()
    posted: Any = event
    assert type(posted).__name__ == "MessagePosted"
    assert message_id == message_id_for(conversation.id, 1) == posted.message_id
    assert (posted.sender_id, posted.recipient_id, posted.sender_role) == (
        OWNER_ID,
        RENTER_ID,
        "owner",
    )
    assert (posted.text, posted.photo_ids, posted.posted_at, posted.seq) == (
        "Yes, it is free.",
        [photo],
        AT,
        1,
    )
    assert (posted.listing_id, posted.booking_id) == (LISTING_ID, None)


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "text_required"), ("   ", "text_required"), ("x" * (MAX_TEXT + 1), "text_too_long")],
)
def test_text_is_one_to_4000_characters(text: str, code: str) -> None:
    conversation = inquiry()
    with pytest.raises(RuleViolation) as refused:
        conversation.post(RENTER_ID, text, [], AT)
    assert refused.value.code == code
    assert conversation.collect_events() == []
    conversation.post(RENTER_ID, "x" * MAX_TEXT, [], AT)


def test_at_most_ten_photos() -> None:
    with pytest.raises(RuleViolation):
        inquiry().post(RENTER_ID, "look", [uuid4() for _ in range(11)], AT)


def test_only_the_parties_write_and_mark() -> None:
    conversation = inquiry()
    with pytest.raises(NotFoundError):
        conversation.post(uuid4(), "hello", [], AT)
    with pytest.raises(NotFoundError):
        conversation.mark_read(ADMIN_ID, 1, AT)


def test_read_marks_move_forward_only_by_message_id_or_position() -> None:
    conversation = inquiry()
    first = conversation.post(RENTER_ID, "one", [], AT)
    conversation.post(RENTER_ID, "two", [], AT)
    conversation.collect_events()
    assert conversation.mark_read(OWNER_ID, 2, AT) == 2
    assert conversation.mark_read(OWNER_ID, first, AT) == 2  # earlier: nothing recorded
    (marked,) = conversation.collect_events()
    event: Any = marked
    assert (event.reader_id, event.up_to) == (OWNER_ID, 2)
    for bad in (0, 3, uuid4()):
        with pytest.raises(RuleViolation):
            conversation.mark_read(OWNER_ID, bad, AT)


def test_an_admin_read_needs_a_booking_under_an_open_dispute() -> None:
    booked = of_booking(uuid4())
    with pytest.raises(PermissionDenied) as refused:
        booked.record_admin_read(ADMIN_ID, "admin", False, AT)
    assert refused.value.code == "no_open_dispute"
    with pytest.raises(PermissionDenied):
        inquiry().record_admin_read(ADMIN_ID, "admin", True, AT)
    with pytest.raises(PermissionDenied):
        booked.record_admin_read(RENTER_ID, "user", True, AT)
    booked.record_admin_read(ADMIN_ID, "admin", True, AT)
    event: Any = booked.collect_events()[-1]
    assert (type(event).__name__, event.by, event.booking_id) == (
        "AdminRead",
        ADMIN_ID,
        booked.booking_id,
    )


# -- use cases on the in-memory store ------------------------------------------------------


def test_a_second_inquiry_about_the_same_listing_writes_to_the_same_conversation() -> None:
    world = make_world()
    listing_id = world.active_listing()
    conversations = Conversations(world.store, world.bookings)
    first, _, created, _ = conversations.inquire(world.renter, listing_id, "Free?", None, NOW)
    again, message, created_again, _ = conversations.inquire(
        world.renter, listing_id, "Still?", None, NOW + timedelta(minutes=1)
    )
    assert (first, created, created_again) == (again, True, False)
    assert message == message_id_for(first, 2)
    found = conversations.find(first)
    assert found is not None and found.message_count == 2


def test_owners_do_not_inquire_about_their_own_listing() -> None:
    world = make_world()
    listing_id = world.active_listing()
    with pytest.raises(RuleViolation) as refused:
        Conversations(world.store, world.bookings).inquire(world.owner, listing_id, "hi", [], NOW)
    assert refused.value.code == "own_listing"


def test_a_booking_conversation_starts_with_its_first_message() -> None:
    world = make_world()
    listing_id = world.active_listing()
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-10", end="2026-06-12", quantity=1, guests=1, at=NOW
    )
    conversations = Conversations(world.store, world.bookings)
    cid = booking_conversation_id(booking_id)
    assert conversations.find(cid) is None
    with pytest.raises(NotFoundError):  # without knowing the booking
        conversations.post(world.owner, cid, "Welcome", None, NOW)
    with pytest.raises(NotFoundError):  # not a party
        conversations.post(world.admin, cid, "Hi", None, NOW, booking_id=booking_id)
    conversation, _, _ = conversations.post(
        world.owner, cid, "Welcome", None, NOW, booking_id=booking_id
    )
    assert (conversation.kind, conversation.booking_id) == (BOOKING, booking_id)
    assert (
        conversations.open_for_reading(
            world.renter, cid, (conversation.renter_id, conversation.owner_id), NOW
        )
        == 0
    )
    with pytest.raises(NotFoundError):
        conversations.open_for_reading(Actor(uuid4(), "user"), cid, (RENTER_ID, OWNER_ID), NOW)
    with pytest.raises(PermissionDenied):  # no dispute
        conversations.open_for_reading(world.admin, cid, (RENTER_ID, OWNER_ID), NOW)


class Catalog:
    def __init__(self, known: set[tuple[UUID, UUID]]) -> None:
        self.known = known

    def missing(self, owner_id: UUID, media_ids: list[UUID]) -> list[UUID]:
        return [m for m in media_ids if (owner_id, m) not in self.known]


def test_photos_must_be_the_senders_own_media() -> None:
    world = make_world()
    listing_id = world.active_listing()
    mine, theirs = uuid4(), uuid4()
    catalog = Catalog({(world.renter.id, mine), (world.owner.id, theirs)})
    conversations = Conversations(world.store, world.bookings, catalog)  # type: ignore[arg-type]
    with pytest.raises(RuleViolation) as refused:
        conversations.inquire(world.renter, listing_id, "see", [theirs], NOW)
    assert refused.value.code == "unknown_media"
    conversations.inquire(world.renter, listing_id, "see", [mine], NOW)
