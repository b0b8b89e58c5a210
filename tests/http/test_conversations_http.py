"""Messaging over HTTP, on the embedded default and on PostgreSQL + Redis: an inquiry (one
per renter, owner and listing), replies, unread counts and read marks, cursor pages, a
booking's conversation masked until the booking is confirmed; the per-user message rate
limit; and inquiries in the owner's response rate on the profile."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.contact_masking import EMAIL_MASK, PHONE_MASK
from domain.conversation import inquiry_id
from infrastructure.bootstrap import Container
from tests.conversation_builders import Chat, booking_conversation, new_chat
from tests.fakes import FakeClock
from tests.http.conftest import API, Api, https_client, make_app
from tests.http.test_bookings_http import Market, code

CONTACT = "Mail me at renter.one@example.com or call +351 912 345 678."


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_an_inquiry_its_replies_and_read_marks(
    request: pytest.FixtureRequest, backend: str
) -> None:
    api: Api = request.getfixturevalue(backend)
    chat = new_chat(api)
    m = chat.m
    first = chat.inquire(m.renter, CONTACT)
    assert first.status_code == 201, first.text
    body = first.json()
    cid = body["id"]
    assert cid == str(inquiry_id(*(UUID(x) for x in (m.renter.id, m.owner.id, m.listing_id))))
    assert body["kind"] == "inquiry" and body["booking_id"] is None
    assert body["message"]["text"] == CONTACT  # the sender's answer shows it as written
    assert int(first.headers["X-Rentbook-Position"]) > 0

    api.clock.advance(minutes=1)
    again = chat.inquire(m.renter, "Also, is there parking?")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == cid and again.json()["message"]["position"] == 2

    (listed,) = chat.listing_of(m.owner)
    assert (listed["id"], listed["unread_count"], listed["message_count"]) == (cid, 2, 2)
    assert listed["masked"] is True
    texts = [msg["text"] for msg in chat.messages(m.owner, cid)]
    assert texts == [f"Mail me at {EMAIL_MASK} or call {PHONE_MASK}.", "Also, is there parking?"]

    api.clock.advance(minutes=5)
    reply = chat.wrote(m.owner, cid, "Yes, free parking.")
    assert (reply["position"], reply["recipient_id"]) == (3, m.renter.id)
    assert chat.listing_of(m.renter)[0]["unread_count"] == 1
    assert chat.listing_of(m.renter)[0]["last_message"]["text"] == "Yes, free parking."

    second_id = chat.messages(m.owner, cid)[1]["id"]
    r = chat.mark(m.owner, cid, second_id)
    assert r.status_code == 200 and r.json()["up_to"] == 2, r.text
    assert chat.listing_of(m.owner)[0]["unread_count"] == 0
    r = chat.mark(m.owner, cid, 1)  # behind the mark: nothing moves
    assert r.status_code == 200 and r.json()["up_to"] == 2
    assert r.headers["X-Rentbook-Position"] == "0"
    r = chat.mark(m.renter, cid, 9)
    assert r.status_code == 422 and code(r) == "unknown_message"

    page = chat.get(m.renter, f"/conversations/{cid}/messages", limit=2).json()
    assert [msg["position"] for msg in page["data"]] == [1, 2] and page["next_cursor"]
    rest = chat.get(m.renter, f"/conversations/{cid}/messages", cursor=page["next_cursor"])
    assert [msg["position"] for msg in rest.json()["data"]] == [3]
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_a_booking_conversation_is_masked_until_the_booking_is_confirmed(
    request: pytest.FixtureRequest, backend: str
) -> None:
    api: Api = request.getfixturevalue(backend)
    chat = new_chat(api)
    m = chat.m
    inquiry = chat.inquired()["id"]
    api.clock.advance(minutes=1)
    booking = m.placed(30, 32)
    cid = booking_conversation(booking)
    listed = chat.listing_of(m.renter)
    assert [c["id"] for c in listed] == [cid, inquiry]  # newest activity first
    assert listed[0]["kind"] == "booking" and listed[0]["message_count"] == 0

    api.clock.advance(minutes=1)
    chat.wrote(m.renter, cid, CONTACT)
    assert (
        chat.messages(m.owner, cid)[0]["text"] == f"Mail me at {EMAIL_MASK} or call {PHONE_MASK}."
    )
    r = m.post(f"/dev/payments/{m.pay(booking['id'])}/succeed", m.renter)
    assert r.status_code == 200, r.text
    assert m.get(booking["id"]).json()["status"] == "confirmed"
    assert chat.messages(m.owner, cid)[0]["text"] == CONTACT
    (shown,) = [c for c in chat.listing_of(m.owner) if c["id"] == cid]
    assert shown["masked"] is False and shown["last_message"]["text"] == CONTACT
    r = chat.get(m.owner, f"/conversations/{cid}")
    assert r.status_code == 200 and r.json()["unread_count"] == 1


def test_bad_messages_are_422_and_record_nothing(api: Api) -> None:
    chat = new_chat(api)
    cid = chat.inquired()["id"]
    before = api.container.store.current_position()
    for body in ({"text": ""}, {"text": "x" * 4001}, {"text": "hi", "photo_ids": ["nope"]}):
        r = api.client.post(
            f"{API}/conversations/{cid}/messages", json=body, headers=chat.m.owner.headers
        )
        assert r.status_code == 422, r.text
    r = chat.write(chat.m.renter, cid, "see", photo_ids=[str(UUID(chat.m.owner.id))])
    assert r.status_code == 422 and code(r) == "unknown_media"
    r = chat.inquire(chat.m.owner, "my own")
    assert r.status_code == 422 and code(r) == "own_listing"
    assert api.container.store.current_position() == before


@pytest.mark.parametrize(
    "backend", ["container", "pg_container"], ids=["in-process", "postgres+redis"]
)
def test_messages_are_rate_limited_per_user(
    request: pytest.FixtureRequest, backend: str, clock: FakeClock
) -> None:
    container: Container = request.getfixturevalue(backend)
    limits = {"*": None, "messages": (3, 60)}
    with https_client(make_app(container, rate_limits=limits)) as client:
        api = Api(client, container, clock)
        chat = new_chat(api)
        cid = chat.inquired()["id"]
        for text in ("two", "three"):
            assert chat.write(chat.m.renter, cid, text).status_code == 201
        r = chat.write(chat.m.renter, cid, "four")
        assert r.status_code == 429 and code(r) == "rate_limited", r.text
        assert int(r.headers["Retry-After"]) >= 1
        assert chat.write(chat.m.owner, cid, "the owner still writes").status_code == 201
        assert chat.inquire(chat.m.renter, "five").status_code == 429  # one bucket for both
        clock.advance(seconds=60)
        assert chat.write(chat.m.renter, cid, "later").status_code == 201


def _profile(chat: Chat) -> dict[str, Any]:
    r = chat.get(chat.m.renter, f"/users/{chat.m.owner.id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_inquiries_count_in_the_owners_response_rate_and_time(api: Api) -> None:
    chat = new_chat(api)
    assert _profile(chat)["response_rate"] is None
    cid = chat.inquired()["id"]
    assert _profile(chat)["response_rate"] is None  # still within the 24 h
    api.clock.advance(hours=2)
    chat.wrote(chat.m.owner, cid, "Yes!")
    chat.wrote(chat.m.owner, cid, "And parking too.")  # only the first reply counts
    profile = _profile(chat)
    assert (profile["response_rate"], profile["median_response_seconds"]) == (1.0, 7200)

    other = Chat(Market(api, chat.m.owner, chat.m.admin, api.new_user(), chat.m.listing_id))
    other.inquired("Anyone there?")
    api.clock.advance(timedelta(hours=24, seconds=1))
    profile = _profile(chat)
    assert (profile["response_rate"], profile["median_response_seconds"]) == (0.5, 7200)
