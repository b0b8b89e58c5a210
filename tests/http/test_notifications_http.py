"""Notifications over HTTP, on the embedded default and on PostgreSQL + Redis: the list
with its unread count and cursor, marking read (`up_to` or `ids`), preferences (in-app
muting, transactional mail locked: 422), refusals as problems, and the mail file the
embedded default writes."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import Response

from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, code, open_listing
from tests.http.test_calendar_conflict_notice_http import mails
from tests.polling import eventually


@pytest.fixture(params=["sqlite", "postgres"])
def any_api(request: pytest.FixtureRequest) -> Api:
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        return request.getfixturevalue("pg_api")  # type: ignore[no-any-return]
    return request.getfixturevalue("api")  # type: ignore[no-any-return]


def requested(api: Api) -> Market:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin, booking_mode="request"))
    m.placed()
    return m


def get(api: Api, auth: Auth, path: str = "/me/notifications", **params: Any) -> Response:
    position = str(api.container.store.current_position())
    headers = auth.headers | {"X-Rentbook-Min-Position": position}
    return api.client.get(f"{API}{path}", params=params, headers=headers)


def page(api: Api, auth: Auth, **params: Any) -> dict[str, Any]:
    r = get(api, auth, **params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_owner_sees_the_request_unread_pages_through_and_marks_it_read(
    any_api: Api,
) -> None:
    api = any_api
    m = requested(api)
    first = page(api, m.owner, limit=1)
    assert first["unread_count"] == 2  # the listing's approval, then the request
    (newest,) = first["data"]
    assert newest["kind"] == "booking_requested" and newest["read"] is False
    assert newest["data"]["listing_id"] == m.listing_id
    second = page(api, m.owner, limit=1, cursor=first["next_cursor"])
    assert [n["kind"] for n in second["data"]] == ["listing_approved"]
    assert second["next_cursor"] is None

    r = m.post("/me/notifications/read", m.owner, {"ids": [second["data"][0]["id"]]})
    assert r.status_code == 200 and r.json() == {"unread_count": 1}
    r = m.post("/me/notifications/read", m.owner, {"up_to": newest["position"]})
    assert r.status_code == 200 and r.json() == {"unread_count": 0}
    assert all(n["read"] for n in page(api, m.owner)["data"])
    assert page(api, m.renter)["data"] == []  # nothing for the renter yet


def test_a_reads_marks_only_the_callers_notifications(api: Api) -> None:
    m = requested(api)
    theirs = page(api, m.owner)["data"][0]
    r = m.post("/me/notifications/read", m.renter, {"up_to": theirs["position"] + 100})
    assert r.status_code == 200 and r.json() == {"unread_count": 0}
    assert page(api, m.owner)["unread_count"] == 2


def test_preferences_mute_in_app_kinds_and_lock_transactional_mail(any_api: Api) -> None:
    api = any_api
    m = requested(api)
    prefs = page(api, m.owner, path="/me/notification-preferences")["preferences"]
    locked = {(p["kind"], p["channel"]) for p in prefs if p["locked"]}
    assert ("booking_confirmed", "email") in locked and ("password_reset", "email") in locked
    assert ("booking_confirmed", "in_app") not in locked
    assert all(p["enabled"] for p in prefs)

    body = {"preferences": [{"kind": "booking_requested", "channel": "in_app", "enabled": False}]}
    r = api.client.put(f"{API}/me/notification-preferences", json=body, headers=m.owner.headers)
    assert r.status_code == 200, r.text
    muted = [p for p in r.json()["preferences"] if not p["enabled"]]
    assert [(p["kind"], p["channel"]) for p in muted] == [("booking_requested", "in_app")]
    listed = page(api, m.owner)
    assert [n["kind"] for n in listed["data"]] == ["listing_approved"]
    assert listed["unread_count"] == 1

    off = {"kind": "refund_sent", "channel": "email", "enabled": False}
    r = api.client.put(
        f"{API}/me/notification-preferences", json={"preferences": [off]}, headers=m.owner.headers
    )
    assert r.status_code == 422 and code(r) == "transactional_mail"


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/me/notifications/read", {}, "validation_failed"),
        ("/me/notifications/read", {"up_to": -1}, "validation_failed"),
        ("/me/notifications/read", {"ids": ["nope"]}, "validation_failed"),
        ("/me/notifications/read", {"up_to": 1, "extra": 1}, "validation_failed"),
    ],
)
def test_bad_read_requests_are_422(api: Api, path: str, body: Any, expected: str) -> None:
    alice = api.new_user()
    r = api.client.post(f"{API}{path}", json=body, headers=alice.headers)
    assert r.status_code == 422 and code(r) == expected


def test_unknown_kinds_forged_cursors_and_no_session_are_refused(api: Api) -> None:
    alice = api.new_user()
    bad = {"preferences": [{"kind": "lottery_won", "channel": "email", "enabled": True}]}
    r = api.client.put(f"{API}/me/notification-preferences", json=bad, headers=alice.headers)
    assert r.status_code == 422 and code(r) == "unknown_notification_kind"
    r = get(api, alice, cursor="eyJwIjoieCJ9")  # {"p":"x"}
    assert r.status_code == 422 and code(r) == "invalid_cursor"
    assert api.client.get(f"{API}/me/notifications").status_code == 401
    r = api.client.get(f"{API}/me/notification-preferences")
    assert r.status_code == 401


def test_the_embedded_default_writes_the_mail_to_a_file(api: Api) -> None:
    m = requested(api)
    (mail,) = eventually(lambda: mails(api, "booking_requested"), "the request mail")
    assert mail["To"] == m.owner.email
    assert mail["Subject"].startswith("New booking request for ")


def test_a_message_notifies_the_owner_in_app_and_by_mail_without_its_text(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing = open_listing(api, owner, admin)
    text = "Can I call you? +351 912 345 678 (Quokka)"
    r = api.client.post(
        f"{API}/conversations", json={"listing_id": listing, "text": text}, headers=renter.headers
    )
    assert r.status_code == 201, r.text
    [note] = [n for n in page(api, owner)["data"] if n["kind"] == "new_message"]
    assert note["data"]["conversation_id"] == r.json()["id"]
    assert "912 345" not in str(note) and "Quokka" not in str(note)  # not a uuid's digits
    assert [n for n in page(api, renter)["data"] if n["kind"] == "new_message"] == []
    (mail,) = eventually(lambda: mails(api, "new_message"), "the message mail")
    assert mail["To"] == owner.email and mail["Subject"].startswith("New message about ")
    assert "912 345" not in mail.get_body(("plain",)).get_content()
