"""The walking skeleton: one rental from listing to confirmed booking, over HTTP only, then the
booking's history and its state back in time — on the embedded default and on PostgreSQL +
Redis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.builders import listing_spec
from tests.http.conftest import (  # noqa: F401 - the HTTP fixtures, shared with tests/http
    API,
    PASSWORD,
    Api,
    Auth,
    api,
    client,
    clock,
    container,
    pg_api,
    pg_client,
    pg_container,
)


def sign_up(app: Api, email: str, name: str) -> Auth:
    r = app.client.post(
        f"{API}/auth/register", json={"email": email, "password": PASSWORD, "name": name}
    )
    assert r.status_code == 201, r.text
    app.verify_email(email)  # the token from the mail, as the user would
    return app.login(email)


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("backend", ["api", "pg_api"], ids=["embedded", "postgres+redis"])
def test_a_renter_books_and_pays_for_a_stay_and_admins_can_replay_it(
    request: pytest.FixtureRequest, backend: str
) -> None:
    app: Api = request.getfixturevalue(backend)
    http = app.client
    owner = sign_up(app, "olivia@example.com", "Olivia Owner")
    renter = sign_up(app, "ravi@example.com", "Ravi Renter")
    admin = app.admin()

    # The owner lists a flat and sends it for review; an admin publishes it.
    created = http.post(
        f"{API}/listings", json=listing_spec(title="Flat by the river"), headers=owner.headers
    )
    listing = ok(created, 201)
    assert listing["status"] == "draft"
    listing_url = f"{API}/listings/{listing['id']}"
    assert ok(http.post(f"{listing_url}/submit", headers=owner.headers))["status"] == (
        "pending_review"
    )
    approved = http.post(f"{API}/admin/listings/{listing['id']}/approve", headers=admin.headers)
    assert ok(approved)["status"] == "active"
    assert ok(http.get(listing_url))["listing"]["title"] == "Flat by the river"

    # The renter reads the calendar and gets a quote for three nights.
    today = app.clock.now().date()
    start, end = (today + timedelta(days=45)).isoformat(), (today + timedelta(days=48)).isoformat()
    days = ok(
        http.get(
            f"{listing_url}/calendar",
            params={"from": start, "to": end},
            headers={"X-Rentbook-Min-Position": approved.headers["X-Rentbook-Position"]},
        )
    )
    assert [d["available_units"] for d in days] == [1, 1, 1]
    quote = ok(
        http.post(
            f"{listing_url}/quote",
            json={"start": start, "end": end, "guests": 2},
            headers=renter.headers,
        )
    )["quote"]
    assert quote["base_total"] == 30_000 and quote["total"] == 33_600

    # Books (instant), pays with the simulated gateway: confirmed.
    placed = http.post(
        f"{API}/bookings",
        json={"listing_id": listing["id"], "start": start, "end": end, "guests": 2},
        headers={**renter.headers, "Idempotency-Key": "skeleton-1", "X-Request-Id": "book-1"},
    )
    booking = ok(placed, 201)
    assert booking["status"] == "pending_payment" and booking["quote"]["total"] == quote["total"]
    booking_url = f"{API}/bookings/{booking['id']}"
    payment = ok(http.post(f"{booking_url}/payment", headers=renter.headers))
    captured = http.post(
        f"{API}/dev/payments/{payment['payment_id']}/succeed", headers=renter.headers
    )
    assert ok(captured)["status"] == "succeeded"
    assert ok(http.get(booking_url, headers=renter.headers))["status"] == "confirmed"
    assert ok(http.get(booking_url, headers=owner.headers))["status"] == "confirmed"

    # The views agree once they have caught up with the capture.
    seen = {"X-Rentbook-Min-Position": captured.headers["X-Rentbook-Position"]}
    days = ok(http.get(f"{listing_url}/calendar", params={"from": start, "to": end}, headers=seen))
    assert [(d["available_units"], d["reserved"]) for d in days] == [(0, 1)] * 3
    mine = ok(http.get(f"{API}/me/bookings", headers={**renter.headers, **seen}))["data"]
    assert [(b["id"], b["status"]) for b in mine] == [(booking["id"], "confirmed")]
    theirs = ok(
        http.get(f"{API}/me/bookings", params={"role": "owner"}, headers={**owner.headers, **seen})
    )["data"]
    assert [b["id"] for b in theirs] == [booking["id"]]

    # The booking's history, with who did what.
    events = ok(http.get(f"{API}/admin/streams/{booking['id']}/events", headers=admin.headers))[
        "data"
    ]
    assert [e["type"] for e in events] == [
        "Booking.Placed",
        "Booking.PaymentRequested",
        "Booking.Confirmed",
    ]
    assert [e["version"] for e in events] == [1, 2, 3]
    placed_event, requested, confirmed = events
    assert placed_event["actor_id"] == renter.id and placed_event["actor_role"] == "user"
    assert placed_event["request_id"] == "book-1"
    assert placed_event["payload"]["quote"]["total"] == quote["total"]
    assert requested["actor_id"] == renter.id
    assert confirmed["payload"]["role"] == "system"
    assert confirmed["payload"]["reason"] == "payment captured"
    assert confirmed["request_id"] == captured.headers["X-Request-Id"]
    assert http.get(
        f"{API}/admin/streams/{booking['id']}/events", headers=renter.headers
    ).status_code == (403)

    # Time travel: version 1 was the unpaid hold.
    then = ok(
        http.get(
            f"{API}/admin/streams/{booking['id']}/state",
            params={"version": 1},
            headers=admin.headers,
        )
    )
    assert then["type"] == "Booking" and then["version"] == 1
    assert then["state"]["status"] == "pending_payment"
    assert then["state"]["payment_id"] is None
    now = ok(http.get(f"{API}/admin/streams/{booking['id']}/state", headers=admin.headers))
    assert now["version"] == 3 and now["state"]["status"] == "confirmed"
    assert now["state"]["payment_id"] == payment["payment_id"]
