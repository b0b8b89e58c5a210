"""A booking's request message opens its conversation: the owner reads it first in the
thread (masked as the thread is until confirmation), it is never counted unread, and the
messages written afterwards follow it in order."""

from __future__ import annotations

import pytest

from domain.contact_masking import EMAIL_MASK
from tests.conversation_builders import booking_conversation, new_chat
from tests.http.conftest import Api

REQUEST = "Arriving late, around 23:00; write to late.guest@example.com if needed."


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_the_request_message_is_the_first_message_of_the_booking_conversation(
    request: pytest.FixtureRequest, backend: str
) -> None:
    api: Api = request.getfixturevalue(backend)
    chat = new_chat(api)
    m = chat.m
    booking = m.placed(30, 32, message=REQUEST)
    cid = booking_conversation(booking)

    (first,) = chat.messages(m.owner, cid)
    assert first["position"] == 0 and first["sender_id"] == m.renter.id
    assert first["recipient_id"] == m.owner.id
    assert first["text"] == REQUEST.replace("late.guest@example.com", EMAIL_MASK)
    (row,) = [c for c in chat.listing_of(m.owner) if c["id"] == cid]
    assert row["unread_count"] == 0 and row["message_count"] == 0
    assert row["last_message"]["text"] == first["text"]

    api.clock.advance(minutes=1)
    chat.wrote(m.owner, cid, "No problem, the key is in the box.")
    texts = [msg["text"] for msg in chat.messages(m.renter, cid)]
    assert texts == [first["text"], "No problem, the key is in the box."]

    r = m.post(f"/dev/payments/{m.pay(booking['id'])}/succeed", m.renter)
    assert r.status_code == 200, r.text
    assert chat.messages(m.owner, cid)[0]["text"] == REQUEST  # confirmed: shown as written


def test_a_booking_without_a_message_has_an_empty_conversation(api: Api) -> None:
    chat = new_chat(api)
    booking = chat.m.placed(30, 32)
    assert chat.messages(chat.m.owner, booking_conversation(booking)) == []
