"""Set-up through the served app's own API (what a journey does not test itself)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page

from tests.browser.harness import DEMO_PASSWORD, RENTER
from tests.e2e.served import Served
from tests.polling import eventually

_TOKENS: dict[tuple[str, str], str] = {}


def token(served: Served, email: str, password: str = DEMO_PASSWORD) -> str:
    """A session token of `email`, one login per user and server: the login rate limit
    (10 a minute per client) would otherwise trip a fast run."""
    key = (served.base_url, email)
    if key not in _TOKENS:
        r = httpx.post(
            f"{served.base_url}/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert r.status_code == 200, r.text
        _TOKENS[key] = str(r.json()["token"])
    return _TOKENS[key]


def bearer(tok: str) -> dict[str, str]:
    return {"authorization": f"Bearer {tok}"}


def instant_stay(served: Served) -> dict[str, Any]:
    """An active, instant-book nightly listing of the demo data."""
    r = httpx.get(
        f"{served.base_url}/api/v1/search/listings",
        params={"category": "stay", "instant_book": "true", "limit": 5},
    )
    assert r.status_code == 200, r.text
    hits = [h for h in r.json()["data"] if h["booking_unit"] == "night"]
    assert hits, "the demo data has no instant-book stay"
    return dict(hits[0])


def stay_dates(days_ahead: int, nights: int = 3) -> tuple[str, str]:
    first = datetime.now(UTC).date() + timedelta(days=days_ahead)
    return first.isoformat(), (first + timedelta(days=nights)).isoformat()


def paid_booking(served: Served, listing_id: str, start: str, end: str) -> str:
    """A confirmed booking of the demo renter, booked and paid through the API."""
    api = f"{served.base_url}/api/v1"
    auth = bearer(token(served, RENTER))
    r = httpx.post(
        f"{api}/bookings",
        json={"listing_id": listing_id, "start": start, "end": end, "guests": 1},
        headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    booking_id = str(r.json()["id"])
    r = httpx.post(f"{api}/bookings/{booking_id}/payment", headers=auth)
    assert r.status_code == 200, r.text
    r = httpx.post(f"{api}/dev/payments/{r.json()['payment_id']}/succeed", headers=auth)
    assert r.status_code == 200, r.text
    return booking_id


def owner_listing(served: Served, email: str) -> dict[str, Any]:
    """An active nightly or daily listing of the demo owner `email`."""
    r = httpx.get(
        f"{served.base_url}/api/v1/me/listings",
        params={"limit": 100},
        headers=bearer(token(served, email)),
    )
    assert r.status_code == 200, r.text
    rows = [
        row
        for row in r.json()["data"]
        if row["status"] == "active" and row["booking_unit"] in ("night", "day")
    ]
    assert rows, f"{email} has no active nightly or daily listing"
    return dict(rows[0])


def wait_until_searchable(served: Served, title: str, seconds: float = 20.0) -> None:
    """Polls the search API (bounded) until the listing is found: the index follows the
    events a moment later."""

    def found() -> bool:
        r = httpx.get(f"{served.base_url}/api/v1/search/listings", params={"q": title})
        return r.status_code == 200 and any(h["title"] == title for h in r.json()["data"])

    eventually(found, f"{title!r} in search", timeout=seconds, interval=0.2)


def new_user(served: Served, password: str = "a long enough password") -> str:
    """A fresh account (signed up through the API); returns its email."""
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    r = httpx.post(
        f"{served.base_url}/api/v1/auth/register",
        json={"email": email, "password": password, "name": "Someone Else"},
    )
    assert r.status_code == 201, r.text
    return email


def signed_in_as(page: Page, served: Served, email: str, password: str = DEMO_PASSWORD) -> None:
    """The browser carries `email`'s session cookie (the API's login; the sign-in form
    itself is exercised by the journeys that start signed out)."""
    page.context.clear_cookies()
    cookie = {
        "name": "rentbook_session",
        "value": token(served, email, password),
        "url": served.base_url,
        "httpOnly": True,
    }
    page.context.add_cookies([cookie])  # type: ignore[list-item]


def lived_through(served: Served, nights: int) -> dict[str, Any]:
    """A paid stay of the demo renter from tomorrow by the server's clock, and that clock
    moved to two hours after its end: the booking. The tokens cached before the move are
    dropped (the sessions age with the clock; several journeys share the server)."""
    api = f"{served.base_url}/api/v1"
    now = datetime.fromisoformat(httpx.get(f"{api}/dev/clock").json()["now"])
    first = now.date() + timedelta(days=1)
    stay = instant_stay(served)
    booking_id = paid_booking(
        served, str(stay["id"]), first.isoformat(), (first + timedelta(days=nights)).isoformat()
    )
    renter = bearer(token(served, RENTER))
    booking: dict[str, Any] = httpx.get(f"{api}/bookings/{booking_id}", headers=renter).json()
    ahead = datetime.fromisoformat(booking["deadlines"]["end_at"]) + timedelta(hours=2) - now
    advance = {"advance": f"PT{int(ahead.total_seconds())}S"}
    r = httpx.post(f"{api}/dev/clock", json=advance, headers=renter, timeout=120)
    assert r.status_code == 200, r.text
    for key in [key for key in _TOKENS if key[0] == served.base_url]:
        del _TOKENS[key]
    return booking
