"""The masking policy as properties: whatever text is written, no email address or phone
number survives in a view read before the booking is confirmed (nor in an inquiry), the
event keeps the text as written, and after confirmation the view shows the original."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from application.conversations import Conversations
from domain.booking import Booking
from domain.contact_masking import EMAIL_MASK, PHONE_MASK, has_contacts, mask_contacts
from domain.conversation import MAX_TEXT, booking_conversation_id
from infrastructure.views_db import create_views_engine
from projections.conversations_queries import get_conversation, list_conversations, list_messages
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, make_world

# Independent of the implementation's patterns: an `@` between two non-spaces, and seven
# digits with at most separators (space . - / ( )) between them.
EMAIL_SEEN = re.compile(r"[^\s]@[^\s]")
PHONE_SEEN = re.compile(r"\d(?:[\s().\-/]*\d){6}")

local = st.text("abcdefghijklmnopqrstuvwxyz0123456789._%+-", min_size=1, max_size=12)
host = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
emails = st.builds(lambda a, b, c: f"{a}@{b}.{c}", local, host, st.sampled_from(["com", "pt"]))
separators = st.sampled_from(["", " ", "-", ".", "/", "  ", " - "])
phones = st.builds(
    lambda lead, groups, sep: lead + sep.join(groups),
    st.sampled_from(["", "+", "+351 ", "(", "00"]),
    st.lists(st.text("0123456789", min_size=2, max_size=4), min_size=3, max_size=5),
    separators,
)
filler = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)
texts = st.lists(st.one_of(filler, emails, phones), min_size=1, max_size=8).map(" ".join)


def leaks(text: str) -> bool:
    return bool(EMAIL_SEEN.search(text) or PHONE_SEEN.search(text))


@settings(max_examples=300, deadline=None)
@given(texts)
def test_nothing_that_looks_like_an_email_or_phone_survives_masking(text: str) -> None:
    masked = mask_contacts(text)
    assert not leaks(masked), masked
    assert not has_contacts(masked)
    assert mask_contacts(masked) == masked  # masking is idempotent


@given(emails, phones)
def test_written_contacts_are_masked(email: str, phone: str) -> None:
    masked = mask_contacts(f"mail {email} or call {phone}")
    digits = sum(c.isdigit() for c in phone)
    assert EMAIL_MASK in masked and email not in masked
    assert (PHONE_MASK in masked) == (digits >= 7)


def test_plain_text_is_left_alone() -> None:
    text = "Is the flat free from the 3rd to the 7th? We are 2 adults and 1 child, 15 kg dog."
    assert mask_contacts(text) == text


@settings(max_examples=25, deadline=None)
@given(st.lists(texts.map(lambda t: t[:MAX_TEXT]).filter(str.strip), min_size=1, max_size=4))
def test_views_mask_before_confirmation_and_events_keep_the_text(written: list[str]) -> None:
    world = make_world()
    listing_id = world.active_listing()
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-10", end="2026-06-12", quantity=1, guests=1, at=NOW
    )
    conversations = Conversations(world.store, world.bookings)
    inquiry = conversations.inquire(world.renter, listing_id, written[0], None, NOW)[0]
    cid = booking_conversation_id(booking_id)
    for text in written:
        conversations.post(world.renter, cid, text, None, NOW, booking_id=booking_id)
        conversations.inquire(world.renter, listing_id, text, None, NOW)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            runner = ProjectionRunner(world.store, engine, all_projections())
            runner.catch_up()
            for shown in (read(runner, engine, cid), read(runner, engine, inquiry)):
                assert not any(leaks(t) for t in shown)
            events: list[Any] = list(world.store.events.get(cid))
            assert [e.text for e in events if hasattr(e, "text")] == written

            booking: Booking = world.bookings.get(booking_id)
            booking.confirm(world.admin.id, NOW)
            world.store.record(booking)
            runner.catch_up()
            assert read(runner, engine, cid)[: len(written)] == written
            assert not any(leaks(t) for t in read(runner, engine, inquiry))  # always masked
        finally:
            engine.dispose()


def read(runner: ProjectionRunner, engine: Any, conversation_id: Any) -> list[str]:
    """Every text a party reads of the conversation: its messages and the list's preview."""
    tables = runner.tables("conversations")
    with engine.connect() as conn:
        row = get_conversation(conn, tables, conversation_id)
        assert row is not None
        messages, _ = list_messages(conn, tables, row, limit=100, cursor=None)
        listed, _ = list_conversations(conn, tables, row["renter_id"], limit=100, cursor=None)
    previews = [c["last_message"]["text"] for c in listed if c["id"] == str(conversation_id)]
    return [m["text"] for m in messages] + previews
