"""The bookings HTTP tests' market: an owner, a renter, an admin and an open listing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from httpx import Response

from tests.builders import listing_spec
from tests.http.conftest import API, Api, Auth
from tests.polling import eventually

MISSING = "00000000-0000-4000-8000-000000000000"


def code(r: Response) -> str:
    assert r.headers["content-type"] == "application/problem+json", r.text
    return str(r.json()["code"])


@dataclass
class Market:
    api: Api
    owner: Auth
    admin: Auth
    renter: Auth
    listing_id: str

    def day(self, offset: int) -> str:
        return (self.api.clock.now().date() + timedelta(days=offset)).isoformat()

    def book(
        self, start: int = 30, end: int = 32, auth: Auth | None = None, **body: Any
    ) -> Response:
        payload = {"listing_id": self.listing_id, "start": self.day(start), "end": self.day(end)}
        headers = (auth or self.renter).headers | body.pop("headers", {})
        return self.api.client.post(f"{API}/bookings", json={**payload, **body}, headers=headers)

    def placed(self, start: int = 30, end: int = 32, **body: Any) -> dict[str, Any]:
        r = self.book(start, end, **body)
        assert r.status_code == 201, r.text
        booking: dict[str, Any] = r.json()
        return booking

    def get(self, booking_id: str, auth: Auth | None = None) -> Response:
        return self.api.client.get(
            f"{API}/bookings/{booking_id}", headers=(auth or self.renter).headers
        )

    def post(self, path: str, auth: Auth, json: Any = None) -> Response:
        return self.api.client.post(f"{API}{path}", json=json, headers=auth.headers)

    def pay(self, booking_id: str) -> str:
        r = self.post(f"/bookings/{booking_id}/payment", self.renter)
        assert r.status_code == 200, r.text
        return str(r.json()["payment_id"])

    def paid(self, start: int = 30, end: int = 32, **body: Any) -> dict[str, Any]:
        booking = self.placed(start, end, **body)
        r = self.post(f"/dev/payments/{self.pay(booking['id'])}/succeed", self.renter)
        assert r.status_code == 200, r.text

        # With rq (PostgreSQL + Redis) the processor's webhooks arrive through a job: the
        # booking confirms when it has run, shortly after the answer.
        def confirmed() -> dict[str, Any] | None:
            got: dict[str, Any] = self.get(booking["id"]).json()
            return got if got["status"] == "confirmed" else None

        return eventually(
            confirmed, "the booking confirmed", seen=lambda: self.get(booking["id"]).json()
        )

    def free_units(self, start: int, end: int) -> list[int]:
        """Free units per night, read after every event so far is in the views."""
        position = str(self.api.container.store.current_position())
        r = self.api.client.get(
            f"{API}/listings/{self.listing_id}/calendar",
            params={"from": self.day(start), "to": self.day(end)},
            headers={"X-Rentbook-Min-Position": position},
        )
        assert r.status_code == 200, r.text
        return [d["available_units"] for d in r.json()]


def open_listing(api: Api, owner: Auth, admin: Auth, **overrides: Any) -> str:
    r = api.client.post(f"{API}/listings", json=listing_spec(**overrides), headers=owner.headers)
    assert r.status_code == 201, r.text
    listing_id = str(r.json()["id"])
    api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    r = api.client.post(f"{API}/admin/listings/{listing_id}/approve", headers=admin.headers)
    assert r.status_code == 200, r.text
    return listing_id


MarketFactory = Callable[..., Market]


def market_factory(api: Api) -> MarketFactory:
    """What the `market` fixture of the bookings tests gives: a new market per call."""

    def make(**overrides: Any) -> Market:
        owner, admin, renter = api.new_user(), api.admin(), api.new_user()
        return Market(api, owner, admin, renter, open_listing(api, owner, admin, **overrides))

    return make
