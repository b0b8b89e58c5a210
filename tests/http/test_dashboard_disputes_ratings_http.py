"""What `test_dashboards_http.py` leaves at zero: a dispute opened over HTTP counted by
`GET /admin/analytics` in its day, category and city (and nowhere else), and published
reviews on `GET /me/dashboard` (count and average per listing and overall; a review still
pending counts nowhere)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.builders import listing_spec
from tests.http.conftest import API, Api, Auth
from tests.http.reviews_support import OWNER_REVIEW, RENTER_REVIEW, new_stay, wait_for_status
from tests.http.test_bookings_http import Market, open_listing

DISPUTE = {"type": "damage", "description": "The sofa has a burn mark.", "evidence": []}


def read(api: Api, path: str, auth: Auth, **params: Any) -> Any:
    """A GET once the views hold every event so far."""
    headers = auth.headers | {
        "X-Rentbook-Min-Position": str(api.container.store.current_position())
    }
    r = api.client.get(f"{API}{path}", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_an_opened_dispute_counts_in_its_day_category_and_city(api: Api) -> None:
    stay = new_stay(api)  # a stay in Lisbon, ended: the renter may dispute it
    admin = stay.m.admin
    porto = listing_spec(category="vehicle", booking_unit="day")["location"] | {"city": "Porto"}
    open_listing(api, stay.owner, admin, category="vehicle", booking_unit="day", location=porto)
    today = api.clock.now().date()
    params = {
        "from": (today - timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }
    before = read(api, "/admin/analytics", admin, **params)
    assert before["totals"]["disputes"] == 0

    r = stay.m.post(f"/bookings/{stay.booking_id}/disputes", stay.renter, DISPUTE)
    assert r.status_code == 201, r.text
    body = read(api, "/admin/analytics", admin, **params)
    assert body["totals"]["disputes"] == 1
    buckets = {b["start"]: b["disputes"] for b in body["buckets"]}
    assert buckets == {(today - timedelta(days=1)).isoformat(): 0, today.isoformat(): 1}
    categories = {c["category"]: c["disputes"] for c in body["by_category"]}
    assert categories == {"stay": 1, "vehicle": 0}  # the Porto van's creation shows it
    cities = {(c["city"], c["country"]): c["disputes"] for c in body["by_city"]}
    assert cities == {("Lisbon", "PT"): 1, ("Porto", "PT"): 0}
    # The day after counts none; a month bucket holds it too.
    after = {
        "from": (today + timedelta(days=1)).isoformat(),
        "to": (today + timedelta(days=2)).isoformat(),
    }
    assert read(api, "/admin/analytics", admin, **after)["totals"]["disputes"] == 0
    monthly = read(api, "/admin/analytics", admin, granularity="month", **params)
    assert sum(b["disputes"] for b in monthly["buckets"]) == 1


def review(api: Api, booking_id: str, auth: Auth, body: dict[str, Any]) -> dict[str, Any]:
    r = api.client.post(f"{API}/bookings/{booking_id}/reviews", json=body, headers=auth.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def test_the_dashboard_rates_the_owners_listings_from_published_reviews(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    loft, van = open_listing(api, owner, admin), open_listing(api, owner, admin)
    renters = [api.new_user() for _ in range(3)]
    stays = [
        Market(api, owner, admin, renters[0], loft).paid(30, 32),
        Market(api, owner, admin, renters[1], van).paid(30, 32),
        Market(api, owner, admin, renters[2], van).paid(34, 36),
    ]
    assert read(api, "/me/dashboard", owner)["rating"] == {"count": 0, "average": 0.0}
    last_end = max(datetime.fromisoformat(b["deadlines"]["end_at"]) for b in stays)
    api.clock.set(last_end + timedelta(hours=1))
    for booking in stays:
        wait_for_status(api, booking["id"], "awaiting_return_inspection")
    owner = api.login(owner.email)  # the clock moved past the sessions' lifetime
    renters = [api.login(r.email) for r in renters]

    # Both sides reviewed: published. The third renter's review waits for the owner's.
    for booking, renter, rating in zip(stays[:2], renters[:2], (5, 2), strict=True):
        review(api, booking["id"], renter, RENTER_REVIEW | {"rating": rating})
        assert review(api, booking["id"], owner, OWNER_REVIEW)["status"] == "published"
    assert review(api, stays[2]["id"], renters[2], RENTER_REVIEW)["status"] == "pending"

    body = read(api, "/me/dashboard", owner)
    # Four reviews are published, but the owner's of their guests rate the renters.
    assert body["rating"] == {"count": 2, "average": 3.5}
    ratings = {row["listing_id"]: row["rating"] for row in body["listings"]}
    assert ratings == {loft: {"count": 1, "average": 5.0}, van: {"count": 1, "average": 2.0}}
