"""Listings over HTTP: quotes, and the edges of the calendar and quotes that must stay client
errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import listing_spec
from tests.http.conftest import API, Api
from tests.http.listings_support import (
    _court,
    active_listing,
    code,
    day,
    quote,
)

# -- quotes ----------------------------------------------------------------------------------


def test_quote_lists_line_items_that_add_up_and_the_cancellation_schedule(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    spec = listing_spec(
        cancellation_policy="flexible", deposit={"amount": 30_000, "currency": "EUR"}
    )
    spec["pricing"]["cleaning_fee"] = {"amount": 4_000, "currency": "EUR"}
    spec["pricing"]["weekly_discount_pct"] = 10
    listing_id = r_id = api.client.post(f"{API}/listings", json=spec, headers=owner.headers).json()[
        "id"
    ]
    api.client.post(f"{API}/listings/{r_id}/submit", headers=owner.headers)
    api.client.post(f"{API}/admin/listings/{r_id}/approve", headers=admin.headers)
    r = quote(api, listing_id, renter, start=day(api, 30), end=day(api, 37), guests=2)
    assert r.status_code == 200, r.text
    body = r.json()
    q = body["quote"]
    assert q["base_total"] == 70_000 and q["discount"] == 7_000 and q["subtotal"] == 63_000
    assert q["cleaning_fee"] == 4_000
    assert q["service_fee"] == 8_040  # 12 % of 67 000
    assert q["total"] == 63_000 + 4_000 + 8_040 + q["tax"]
    assert sum(item["amount"] for item in q["line_items"]) == q["total"]
    assert [item["code"] for item in q["line_items"]][:3] == ["base", "discount", "cleaning_fee"]
    assert q["currency"] == "EUR" and q["guests"] == 2
    assert body["cancellation_policy"] == "flexible"
    assert [t["refund_pct"] for t in body["cancellation_schedule"]] == [100, 50, 0]
    assert body["cancellation_schedule"][-1]["until"] is None
    assert body["deposit"] == {"amount": 30_000, "currency": "EUR"}


def test_anonymous_visitors_can_quote_an_active_listing(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = quote(api, listing_id, start=day(api, 30), end=day(api, 31))
    assert r.status_code == 200 and r.json()["quote"]["base_total"] == 10_000


def test_hourly_quote_across_the_spring_forward_gap_counts_real_hours(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin, category="court")  # open around the clock
    # 2027-03-28 in Lisbon: from 00:00 WET to 03:00 WEST is two real hours, not three.
    r = quote(
        api,
        listing_id,
        api.new_user(),
        start="2027-03-28T00:00:00+00:00",
        end="2027-03-28T03:00:00+01:00",
    )
    assert r.status_code == 200, r.text
    q = r.json()["quote"]
    assert [when for when, _ in q["unit_prices"]] == [
        "2027-03-28T00:00:00Z",
        "2027-03-28T01:00:00Z",
    ]
    assert q["base_total"] == 20_000 and q["discount"] == 0
    assert q["line_items"][0]["label"] == "2 hours"


@pytest.mark.parametrize(
    ("overrides", "body", "expected"),
    [
        ({"min_duration": 3}, {"start": 30, "end": 32}, "too_short"),
        ({"max_duration": 2}, {"start": 30, "end": 34}, "too_long"),
        ({}, {"start": -2, "end": 2}, "in_the_past"),
        ({"advance_notice_hours": 24 * 10}, {"start": 3, "end": 5}, "short_notice"),
        ({"booking_window_days": 30}, {"start": 60, "end": 62}, "beyond_window"),
        ({"capacity": 2}, {"start": 30, "end": 32, "guests": 3}, "over_capacity"),
        ({}, {"start": 30, "end": 32, "quantity": 2}, "bad_quantity"),
        ({}, {"start": 32, "end": 30}, "bad_period"),
    ],
)
def test_quote_is_422_with_the_reason_when_not_bookable(
    api: Api, overrides: dict[str, Any], body: dict[str, Any], expected: str
) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin, **overrides)
    payload = {**body, "start": day(api, body["start"]), "end": day(api, body["end"])}
    r = quote(api, listing_id, renter, **payload)
    assert r.status_code == 422, r.text
    assert code(r) == expected


def test_quote_for_taken_dates_is_422_unavailable(api: Api) -> None:
    owner, admin, renter, other = api.new_user(), api.admin(), api.new_user(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    booked = api.client.post(
        f"{API}/bookings",
        json={"listing_id": listing_id, "start": day(api, 30), "end": day(api, 33)},
        headers=renter.headers,
    )
    assert booked.status_code == 201
    r = quote(api, listing_id, other, start=day(api, 32), end=day(api, 34))
    assert r.status_code == 422 and code(r) == "unavailable"
    assert quote(api, listing_id, other, start=day(api, 33), end=day(api, 34)).status_code == 200


def test_quote_for_closed_hours_is_422(api: Api) -> None:
    listing_id = _court(api)
    r = quote(
        api,
        listing_id,
        api.new_user(),
        start="2027-01-13T06:00:00Z",
        end="2027-01-13T09:00:00Z",
    )
    assert r.status_code == 422 and code(r) == "closed_hours"


def test_owners_cannot_quote_their_own_listing(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = quote(api, listing_id, owner, start=day(api, 30), end=day(api, 31))
    assert r.status_code == 422 and code(r) == "own_listing"


# -- edges that must stay client errors ------------------------------------------------------


def test_hourly_calendar_ending_on_the_last_representable_date_is_not_a_500(api: Api) -> None:
    listing_id = _court(api)
    position = str(api.container.store.current_position())  # the view must know the listing
    r = api.client.get(
        f"{API}/listings/{listing_id}/calendar",
        params={"from": "9999-12-30", "to": "9999-12-31"},
        headers={"X-Rentbook-Min-Position": position},
    )
    assert r.status_code in (200, 422), r.text


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("9999-12-31T22:00:00-01:00", "9999-12-31T23:00:00-01:00"),
        ("0001-01-01T00:00:00+01:00", "0001-01-01T02:00:00+01:00"),
    ],
    ids=["after-year-9999-in-utc", "before-year-1-in-utc"],
)
def test_hourly_quote_at_an_unrepresentable_instant_is_422_not_500(
    api: Api, start: str, end: str
) -> None:
    listing_id = _court(api)
    r = quote(api, listing_id, api.new_user(), start=start, end=end)
    assert r.status_code == 422, r.text


def test_hourly_block_at_an_unrepresentable_instant_is_422_not_500(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin, category="court")
    r = api.client.post(
        f"{API}/listings/{listing_id}/blocks",
        json={"start": "9999-12-31T22:00:00-01:00", "end": "9999-12-31T23:00:00-01:00"},
        headers=owner.headers,
    )
    assert r.status_code == 422, r.text
