"""Personal data over HTTP, on the embedded default and on PostgreSQL + Redis: the export,
erasure by the user (password again) and by an admin, and what is left afterwards: no
plaintext in any view, the event log or time travel; bookings, payments and the ledger
intact; the hash chain still verifies; the address free to sign up again."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conversation_builders import Chat
from tests.erasure_builders import stored_text, view_text
from tests.http.conftest import API, PASSWORD, Api, Auth
from tests.http.test_bookings_http import Market, open_listing
from tests.http.test_reviews_http import wait_for_status

NAME, PHONE, BIO = "Zephyrine Quillfeather", "+351 918 273 645", "Bio-of-zephyrine-77"
MESSAGE, COMMENT, INQUIRY = "Arrival-note-zq41", "Review-text-zq42", "Inquiry-text-zq43"
SECRETS = (NAME, PHONE, BIO, MESSAGE, COMMENT, INQUIRY)


def caught_up(api: Api, auth: Auth) -> dict[str, str]:
    return auth.headers | {"X-Rentbook-Min-Position": str(api.container.store.current_position())}


def export(api: Api, auth: Auth) -> dict[str, Any]:
    r = api.client.get(f"{API}/users/me/export", headers=caught_up(api, auth))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def reviewed_stay(api: Api) -> tuple[Market, str, str]:
    """A renter with a distinctive profile who inquired, booked with a message, stayed and
    reviewed; returns the market (fresh sessions), the renter's email and the booking id."""
    owner, admin = api.new_user(), api.admin()
    email = "zephyrine@example.com"
    renter = api.login(api.register(email, name=NAME, phone=PHONE)["email"])
    r = api.client.patch(f"{API}/users/me", json={"bio": BIO}, headers=renter.headers)
    assert r.status_code == 200, r.text
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin))
    assert Chat(m).inquire(renter, INQUIRY).status_code == 201
    booking = m.paid(30, 32, message=MESSAGE)
    api.clock.set(datetime.fromisoformat(booking["deadlines"]["end_at"]) + timedelta(hours=1))
    wait_for_status(api, booking["id"], "awaiting_return_inspection")
    m = Market(api, api.login(owner.email), api.login(admin.email), api.login(email), m.listing_id)
    review = {"rating": 5, "comment": COMMENT}
    r = api.client.post(
        f"{API}/bookings/{booking['id']}/reviews", json=review, headers=m.renter.headers
    )
    assert r.status_code == 201, r.text
    return m, email, str(booking["id"])


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_a_user_exports_then_erases_their_data_and_the_money_stays(
    request: pytest.FixtureRequest, backend: str
) -> None:
    api: Api = request.getfixturevalue(backend)
    m, email, booking_id = reviewed_stay(api)
    mine = export(api, m.renter)
    assert (mine["profile"]["name"], mine["profile"]["phone"]) == (NAME, PHONE)
    assert [b["id"] for b in mine["sections"]["bookings"]] == [booking_id]
    assert mine["sections"]["reviews_written"][0]["comment"] == COMMENT
    assert INQUIRY in {msg["text"] for msg in mine["sections"]["messages"]}
    assert mine["sections"]["payments"] and mine["sessions"]
    stored = stored_text(api.container.store)
    assert not [s for s in SECRETS if s in stored]  # sealed in the log from the start

    wrong = api.client.request(
        "DELETE", f"{API}/users/me", json={"password": "not it at all"}, headers=m.renter.headers
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "wrong_password"
    r = api.client.request(
        "DELETE", f"{API}/users/me", json={"password": PASSWORD}, headers=m.renter.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "erased", r.text
    assert int(r.headers["X-Rentbook-Position"]) > 0

    assert api.client.get(f"{API}/users/me", headers=m.renter.headers).status_code == 401
    login = api.client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 401
    everything = view_text(api.container.views) + stored_text(api.container.store)
    assert not [s for s in SECRETS if s in everything]
    admin = m.admin.headers
    events = api.client.get(f"{API}/admin/streams/{m.renter.id}/events", headers=admin).json()
    assert not [s for s in (*SECRETS, email) if s in str(events)]
    state = api.client.get(f"{API}/admin/streams/{m.renter.id}/state?version=2", headers=admin)
    assert state.status_code == 200 and NAME not in state.text and "[erased]" in state.text
    owners = export(api, m.owner)
    assert not [s for s in SECRETS if s in str(owners)]
    assert [b["id"] for b in owners["sections"]["bookings"]] == [booking_id]
    assert owners["sections"]["reviews_received"][0]["comment"] == "[erased]"
    assert m.get(booking_id, m.owner).json()["status"] == "awaiting_return_inspection"
    verify = api.client.get(f"{API}/admin/ledger/verify", headers=caught_up(api, m.admin)).json()
    assert verify["balanced"] and verify["derived_matches_recorded"], verify
    audit = api.client.get(f"{API}/admin/audit/verify", headers=admin)
    assert audit.status_code == 200 and audit.json()["ok"], audit.text
    again = api.register(email, name="Someone New")  # the address is free again
    assert again["id"] != m.renter.id and api.login(email).id == again["id"]


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_an_admin_erases_a_user_and_only_an_admin_may(
    request: pytest.FixtureRequest, backend: str
) -> None:
    api: Api = request.getfixturevalue(backend)
    admin, victim, other = api.admin(), api.new_user(name=NAME), api.new_user()
    path = f"{API}/admin/users/{victim.id}"
    assert api.client.delete(path, headers=other.headers).status_code == 403
    own = api.client.delete(f"{API}/admin/users/{admin.id}", headers=admin.headers)
    assert own.status_code == 403
    r = api.client.delete(path, headers=admin.headers)
    assert r.status_code == 200 and r.json() == {"id": victim.id, "status": "erased"}
    assert api.client.get(f"{API}/users/me", headers=victim.headers).status_code == 401
    events = api.client.get(f"{API}/admin/streams/{victim.id}/events", headers=admin.headers)
    erased = events.json()["data"][-1]
    assert erased["type"].endswith("Erased") and admin.id in str(erased)
    assert NAME not in view_text(api.container.views)
    public = api.client.get(f"{API}/users/{victim.id}", headers=caught_up(api, admin))
    assert public.status_code == 404  # no public profile left
    assert api.client.delete(path, headers=admin.headers).status_code == 200  # idempotent
    missing = api.client.delete(f"{API}/admin/users/{uuid.uuid4()}", headers=admin.headers)
    assert missing.status_code == 404
