"""The world the fuzz and the hostile inputs meet: one app whose state accumulates, with
the ids of real resources, and the events a refused request may have recorded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.event_meta import event_meta
from tests.builders import listing_spec
from tests.http.conftest import API, Api, Auth
from tests.image_files import jpeg

PROBLEM = "application/problem+json"


class Fuzz:
    """One app for the whole module (state accumulates, as in real use) and the ids of real
    resources so that generated requests sometimes reach past the 404."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.sent = 0  # requests the fuzz sent, reported at the end
        self.user = api.new_user()
        self.admin = api.admin()
        other_owner = api.new_user()
        self.known: dict[str, list[str]] = {}
        # A draft listing of the fuzzing user, an active one of someone else it has booked.
        own = self._post(self.user, "/listings", listing_spec(title="Fuzz draft"))["id"]
        hourly = self._post(other_owner, "/listings", listing_spec(category="court"))["id"]
        active = self._post(other_owner, "/listings", listing_spec(title="Fuzz active"))["id"]
        for listing_id in (hourly, active):
            self._post(other_owner, f"/listings/{listing_id}/submit", None, 200)
            self._post(self.admin, f"/admin/listings/{listing_id}/approve", None, 200)
        start = (api.clock.now() + timedelta(days=30)).date()
        booking = self._post(
            self.user,
            "/bookings",
            {"listing_id": active, "start": str(start), "end": str(start + timedelta(days=2))},
        )
        payment = self._post(self.user, f"/bookings/{booking['id']}/payment", None, 200)
        block = self._post(
            other_owner,
            f"/listings/{active}/blocks",
            {"start": str(start + timedelta(days=60)), "end": str(start + timedelta(days=61))},
        )
        image = ("p.jpg", jpeg(), "image/jpeg")
        r = api.client.post(f"{API}/media", files={"file": image}, headers=self.user.headers)
        assert r.status_code == 201, r.text
        self.known = {
            "media_id": [r.json()["id"]],
            "size": ["original", "display", "thumb"],
            "listing_id": [own, active, hourly],
            "booking_id": [booking["id"]],
            "payment_id": [payment["payment_id"]],
            "block_id": [block["id"]],
            "user_id": [self.user.id, other_owner.id],
            "aggregate_id": [own, booking["id"], self.user.id],
            "session_id": [],
            "name": ["listings", "bookings", "availability", "audit"],
            "day": [str(start), str(start + timedelta(days=1))],
        }

    def _post(self, who: Auth, path: str, body: Any, expected: int = 201) -> dict[str, Any]:
        r = self.api.client.post(f"{API}{path}", json=body, headers=who.headers)
        assert r.status_code == expected, r.text
        result: dict[str, Any] = r.json()
        return result


def recorded_by(store: Any, before: int, response: Any) -> list[Any]:
    """Events recorded after `before` on behalf of this response's request. Background
    workers (ledger, payment jobs, scheduler) record too, so the log's head alone says
    nothing about the request."""
    request_id = response.json().get("request_id")  # refusals are problems naming it
    assert request_id, "every problem names its request"
    notes = store.recorder.select_notifications(before, 10_000, inclusive_of_start=False)
    events = (store.mapper.to_domain_event(n) for n in notes)
    return [e for e in events if event_meta(e).get("request_id") == request_id]
