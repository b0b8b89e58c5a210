"""A stay for the reviews HTTP tests: a paid booking of an open listing, driven to its end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from httpx import Response

from domain.event_meta import event_meta
from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, open_listing
from tests.polling import eventually

RENTER_REVIEW = {
    "rating": 4,
    "comment": "Bright flat, exactly as described.",
    "category_ratings": {"cleanliness": 5, "value": 3},
}
OWNER_REVIEW = {"rating": 5, "comment": "A careful guest.", "category_ratings": {"care": 5}}


@dataclass
class Stay:
    """A paid booking back from its stay (awaiting return inspection)."""

    api: Api
    m: Market
    booking_id: str
    returned_at: datetime

    @property
    def renter(self) -> Auth:
        return self.m.renter

    @property
    def owner(self) -> Auth:
        return self.m.owner

    def relogin(self) -> None:
        """After the clock moved past the sessions' lifetime."""
        a = self.api
        self.m = Market(
            a,
            a.login(self.owner.email),
            a.login(self.m.admin.email),
            a.login(self.renter.email),
            self.m.listing_id,
        )

    def review(self, auth: Auth, body: dict[str, Any] | None = None, **headers: str) -> Response:
        return self.api.client.post(
            f"{API}/bookings/{self.booking_id}/reviews",
            json=body if body is not None else RENTER_REVIEW,
            headers=auth.headers | headers,
        )

    def reviewed(self, auth: Auth, body: dict[str, Any]) -> dict[str, Any]:
        r = self.review(auth, body)
        assert r.status_code == 201, r.text
        review: dict[str, Any] = r.json()
        return review

    def read(self, path: str, auth: Auth | None = None) -> Response:
        """A GET that waits until the views hold every event recorded so far."""
        headers = {"X-Rentbook-Min-Position": str(self.api.container.store.current_position())}
        if auth is not None:
            headers |= auth.headers
        return self.api.client.get(f"{API}{path}", headers=headers)

    def listed(self, path: str) -> list[dict[str, Any]]:
        r = self.read(path)
        assert r.status_code == 200, r.text
        data: list[dict[str, Any]] = r.json()["data"]
        return data


def ended_booking(m: Market) -> tuple[str, datetime]:
    booking = m.paid(30, 32)
    end_at = datetime.fromisoformat(booking["deadlines"]["end_at"])
    m.api.clock.set(end_at + timedelta(hours=1))
    return str(booking["id"]), end_at


def wait_for_status(api: Api, booking_id: str, status: str) -> None:
    def reached() -> bool:
        api.container.scheduler.run_due(api.clock.now())
        return bool(api.container.bookings.get(UUID(booking_id)).status == status)

    eventually(reached, f"the booking {status}")


StayFactory = Callable[[], Stay]


def new_stay(api: Api) -> Stay:
    """An active listing of a new owner, booked and paid by a new renter, and the clock
    moved past the booking's end until the scheduler ended it."""
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin))
    booking_id, _ = ended_booking(m)
    wait_for_status(api, booking_id, "awaiting_return_inspection")
    returned_at = api.container.bookings.get(UUID(booking_id)).returned_at
    assert returned_at is not None
    s = Stay(api, m, booking_id, returned_at)
    s.relogin()
    return s


def recorded_by(api: Api, before: int, response: Response) -> list[Any]:
    """Events recorded after `before` on behalf of this (refused) request."""
    request_id = response.json()["request_id"]
    store = api.container.store
    notes = store.recorder.select_notifications(before, 10_000, inclusive_of_start=False)
    events = (store.mapper.to_domain_event(n) for n in notes)
    return [e for e in events if event_meta(e).get("request_id") == request_id]
