"""`GET /me/stream` carries messages to both parties, without their text (masking is the
conversations view's policy, applied when the message is read)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.http.conftest import API, Api, make_app
from tests.http.test_bookings_http import open_listing
from tests.sse_support import SseStream, served_app


@pytest.fixture
def served(api: Api) -> Iterator[str]:
    with served_app(make_app(api.container)) as base_url:
        yield base_url


def test_an_inquiry_reaches_both_parties_streams_without_its_text(api: Api, served: str) -> None:
    owner, admin, renter, other = api.new_user(), api.admin(), api.new_user(), api.new_user()
    listing = open_listing(api, owner, admin)
    url = f"{served}{API}/me/stream"
    text = "Is the flat quiet? Mail me at someone@example.com"
    with (
        SseStream(url, owner.headers) as to_owner,
        SseStream(url, renter.headers) as to_renter,
        SseStream(url, other.headers) as to_other,
    ):
        for stream in (to_owner, to_renter, to_other):
            [ready] = stream.events(1)
            assert ready.kind == "ready"
        r = api.client.post(
            f"{API}/conversations",
            json={"listing_id": listing, "text": text},
            headers=renter.headers,
        )
        assert r.status_code == 201, r.text
        conversation = r.json()["id"]
        seen_by_owner = to_owner.until(lambda e: e.kind == "message")[-1]
        seen_by_renter = to_renter.until(lambda e: e.kind == "message")[-1]
        # A third user's stream: the first message it tells is the user's own inquiry.
        r = api.client.post(
            f"{API}/conversations",
            json={"listing_id": listing, "text": "Hi"},
            headers=other.headers,
        )
        assert r.status_code == 201, r.text
        [first_to_other] = [e for e in to_other.until(lambda e: e.kind == "message")]
        assert first_to_other.data["conversation_id"] == r.json()["id"] != conversation
    for event, mine in ((seen_by_owner, False), (seen_by_renter, True)):
        assert event.data["conversation_id"] == conversation
        assert event.data["listing_id"] == listing
        assert event.data["mine"] is mine
        assert "someone@example.com" not in str(event.data) and "text" not in event.data
    assert seen_by_owner.id == seen_by_renter.id
