"""Bookings over HTTP: placing (instant and request), overlaps and rules, owner answers,
cancellation refunds, visibility and lists (paying, idempotent retries and deadlines:
`test_bookings_payments_http.py`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.builders import listing_spec
from tests.http.bookings_support import (  # noqa: F401 (others import them from here)
    MISSING,
    Market,
    MarketFactory,
    code,
    market_factory,
    open_listing,
)
from tests.http.conftest import API, Api, Auth


@pytest.fixture
def market(api: Api) -> MarketFactory:
    return market_factory(api)


# -- placing ---------------------------------------------------------------------------------


def test_instant_booking_is_201_pending_payment_for_15_minutes(
    api: Api, market: MarketFactory
) -> None:
    m = market()
    r = m.book(30, 33, guests=2, message="Arriving late")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "pending_payment"
    assert body["listing_id"] == m.listing_id and body["renter_id"] == m.renter.id
    assert body["owner_id"] == m.owner.id
    assert (body["start"], body["end"]) == (m.day(30), m.day(33))
    assert body["guests"] == 2 and body["message"] == "Arriving late"
    assert datetime.fromisoformat(body["expires_at"]) == api.clock.now() + timedelta(minutes=15)
    assert body["quote"]["base_total"] == 30_000 and body["quote"]["total"] == 33_600
    assert body["cancellation_policy"]["name"] == "moderate"
    assert r.headers["Location"] == f"/api/v1/bookings/{body['id']}"
    assert r.headers["ETag"] == '"1"' and int(r.headers["X-Rentbook-Position"]) > 0
    assert m.free_units(29, 34) == [1, 0, 0, 0, 1]


def test_request_booking_waits_24_hours_for_the_owner(api: Api, market: MarketFactory) -> None:
    m = market(booking_mode="request")
    body = m.placed()
    assert body["status"] == "pending_owner_approval"
    assert datetime.fromisoformat(body["expires_at"]) == api.clock.now() + timedelta(hours=24)
    assert m.free_units(30, 32) == [0, 0]


def test_an_overlapping_booking_is_409_unavailable(market: MarketFactory) -> None:
    m = market()
    m.placed(30, 33)
    r = m.book(32, 35, auth=m.api.new_user())
    assert r.status_code == 409 and code(r) == "unavailable"
    assert m.book(33, 35, auth=m.api.new_user()).status_code == 201  # checkout day is free


def test_two_units_take_two_overlapping_bookings_then_409(market: MarketFactory) -> None:
    m = market(quantity=2)
    assert m.book(30, 32).status_code == 201
    assert m.book(31, 33, auth=m.api.new_user()).status_code == 201
    r = m.book(31, 32, auth=m.api.new_user())
    assert r.status_code == 409 and code(r) == "unavailable"


def test_owners_cannot_book_their_own_listing(market: MarketFactory) -> None:
    m = market()
    r = m.book(auth=m.owner)
    assert r.status_code == 422 and code(r) == "own_listing"


def test_an_inactive_or_draft_listing_cannot_be_booked(api: Api, market: MarketFactory) -> None:
    m = market()
    api.client.post(f"{API}/listings/{m.listing_id}/deactivate", headers=m.owner.headers)
    r = m.book()
    assert r.status_code == 422 and code(r) == "listing_not_active"
    draft = api.client.post(f"{API}/listings", json=listing_spec(), headers=m.owner.headers)
    r = api.client.post(
        f"{API}/bookings",
        json={"listing_id": draft.json()["id"], "start": m.day(30), "end": m.day(31)},
        headers=m.renter.headers,
    )
    assert r.status_code in (404, 422)
    assert code(r) in ("listing_not_found", "listing_not_active")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2020-01-01", "2020-01-03", "in_the_past"),
        ("01/03/2027", "03/03/2027", "bad_period"),
        ("2027-02-30", "2027-03-02", "bad_period"),
        ("2027-03-01T15:00:00Z", "2027-03-03T11:00:00Z", "bad_period"),
        ("2027-03-03", "2027-03-01", "bad_period"),
        ("2027-03-01", "2027-03-01", "bad_period"),
    ],
)
def test_bad_or_past_dates_are_422(
    market: MarketFactory, start: str, end: str, expected: str
) -> None:
    m = market()
    r = m.api.client.post(
        f"{API}/bookings",
        json={"listing_id": m.listing_id, "start": start, "end": end},
        headers=m.renter.headers,
    )
    assert r.status_code == 422, r.text
    assert code(r) == expected


@pytest.mark.parametrize(
    ("overrides", "body", "expected"),
    [
        ({"min_duration": 3}, {}, "too_short"),
        ({"capacity": 2}, {"guests": 3}, "over_capacity"),
        ({"advance_notice_hours": 24 * 40}, {}, "short_notice"),
        ({}, {"quantity": 0}, "validation_failed"),
    ],
)
def test_rule_violations_are_422_with_their_code(
    market: MarketFactory, overrides: dict[str, Any], body: dict[str, Any], expected: str
) -> None:
    m = market(**overrides)
    r = m.book(**body)
    assert r.status_code == 422 and code(r) == expected


def test_booking_needs_a_session_and_an_existing_listing(market: MarketFactory) -> None:
    m = market()
    r = m.api.client.post(
        f"{API}/bookings", json={"listing_id": m.listing_id, "start": m.day(30), "end": m.day(31)}
    )
    assert r.status_code == 401
    r = m.api.client.post(
        f"{API}/bookings",
        json={"listing_id": MISSING, "start": m.day(30), "end": m.day(31)},
        headers=m.renter.headers,
    )
    assert r.status_code == 404 and code(r) == "listing_not_found"


def test_booking_a_user_id_as_a_listing_is_404_listing_not_found(market: MarketFactory) -> None:
    m = market()
    r = m.api.client.post(
        f"{API}/bookings",
        json={"listing_id": m.owner.id, "start": m.day(30), "end": m.day(31)},
        headers=m.renter.headers,
    )
    assert r.status_code == 404
    assert code(r) == "listing_not_found"


def test_hourly_booking_at_an_instant_out_of_range_is_422_not_500(market: MarketFactory) -> None:
    m = market(category="court")
    r = m.api.client.post(
        f"{API}/bookings",
        json={
            "listing_id": m.listing_id,
            "start": "9999-12-31T22:00:00-01:00",
            "end": "9999-12-31T23:00:00-01:00",
        },
        headers=m.renter.headers,
    )
    assert r.status_code == 422, r.text


def test_hourly_booking_holds_its_slots_and_the_turnover_buffer(market: MarketFactory) -> None:
    m = market(category="court", buffer_minutes=30)
    start, end = "2027-01-13T10:00:00Z", "2027-01-13T12:00:00Z"
    r = m.api.client.post(
        f"{API}/bookings",
        json={"listing_id": m.listing_id, "start": start, "end": end},
        headers=m.renter.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["unit"] == "hour" and r.json()["quote"]["base_total"] == 20_000
    other = m.api.new_user()
    r = m.api.client.post(
        f"{API}/bookings",
        json={
            "listing_id": m.listing_id,
            "start": "2027-01-13T12:00:00Z",
            "end": "2027-01-13T13:00:00Z",
        },
        headers=other.headers,
    )
    assert r.status_code == 409 and code(r) == "unavailable"


# -- owner answers ---------------------------------------------------------------------------


def test_owner_approval_moves_a_request_to_pending_payment_for_15_minutes(
    api: Api, market: MarketFactory
) -> None:
    m = market(booking_mode="request")
    booking = m.placed()
    api.clock.advance(hours=2)
    r = m.post(f"/bookings/{booking['id']}/approve", m.owner)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending_payment"
    assert datetime.fromisoformat(r.json()["expires_at"]) == api.clock.now() + timedelta(minutes=15)
    assert r.headers["ETag"] == '"2"'


def test_renters_cannot_approve_or_decline_and_strangers_get_404(market: MarketFactory) -> None:
    m = market(booking_mode="request")
    booking_id = m.placed()["id"]
    r = m.post(f"/bookings/{booking_id}/approve", m.renter)
    assert r.status_code == 403
    r = m.post(f"/bookings/{booking_id}/decline", m.renter, {"reason": "nope"})
    assert r.status_code == 403
    stranger = m.api.new_user()
    assert m.post(f"/bookings/{booking_id}/approve", stranger).status_code == 404
    assert m.get(booking_id).json()["status"] == "pending_owner_approval"


def test_decline_cancels_the_request_and_frees_the_units(market: MarketFactory) -> None:
    m = market(booking_mode="request")
    booking_id = m.placed()["id"]
    r = m.post(f"/bookings/{booking_id}/decline", m.owner, {"reason": "Family visiting"})
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled" and r.json()["status_reason"] == "Family visiting"
    assert m.free_units(30, 32) == [1, 1]
    assert m.post(f"/bookings/{booking_id}/approve", m.owner).status_code == 409


def test_approving_an_instant_booking_is_409(market: MarketFactory) -> None:
    m = market()
    booking_id = m.placed()["id"]
    r = m.post(f"/bookings/{booking_id}/approve", m.owner)
    assert r.status_code == 409 and code(r) == "invalid_booking_transition"


# -- cancelling ------------------------------------------------------------------------------


def test_renter_cancelling_an_unpaid_booking_owes_no_refund_and_frees_units(
    market: MarketFactory,
) -> None:
    m = market()
    booking_id = m.placed()["id"]
    r = m.post(f"/bookings/{booking_id}/cancel", m.renter, {"reason": "Plans changed"})
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled" and r.json()["refund_due"] is None
    assert m.free_units(30, 32) == [1, 1]


def test_renter_cancelling_early_under_moderate_gets_everything_back(market: MarketFactory) -> None:
    m = market(cancellation_policy="moderate")
    booking = m.paid(30, 32)
    r = m.post(f"/bookings/{booking['id']}/cancel", m.renter, {"reason": "Plans changed"})
    assert r.status_code == 200
    assert r.json()["refund_due"] == {"amount": booking["quote"]["total"], "currency": "EUR"}
    assert m.free_units(30, 32) == [1, 1]


def test_renter_cancelling_late_under_moderate_gets_half_the_rent(
    api: Api, market: MarketFactory
) -> None:
    m = market(cancellation_policy="moderate")
    booking = m.paid(30, 32)
    api.clock.advance(days=27)  # inside 5 days of check-in
    renter = api.login(m.renter.email)  # the first session has expired by now
    r = m.post(f"/bookings/{booking['id']}/cancel", renter, {"reason": "Plans changed"})
    assert r.status_code == 200, r.text
    assert r.json()["refund_due"] == {"amount": 10_000, "currency": "EUR"}  # 50 % of 20 000


def test_renter_cancelling_non_refundable_gets_nothing(market: MarketFactory) -> None:
    m = market(cancellation_policy="non_refundable")
    booking = m.paid(30, 32)
    r = m.post(f"/bookings/{booking['id']}/cancel", m.renter, {"reason": "Plans changed"})
    assert r.status_code == 200
    assert r.json()["refund_due"] == {"amount": 0, "currency": "EUR"}


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owner_or_admin_cancelling_refunds_the_whole_total(market: MarketFactory, who: str) -> None:
    m = market(cancellation_policy="non_refundable")
    booking = m.paid(30, 32)
    auth = m.owner if who == "owner" else m.admin
    r = m.post(f"/bookings/{booking['id']}/cancel", auth, {"reason": "Burst pipe"})
    assert r.status_code == 200, r.text
    assert r.json()["refund_due"] == {"amount": booking["quote"]["total"], "currency": "EUR"}
    assert r.json()["status"] == "cancelled"


def test_strangers_cannot_cancel_and_a_reason_is_required(market: MarketFactory) -> None:
    m = market()
    booking_id = m.placed()["id"]
    r = m.post(f"/bookings/{booking_id}/cancel", m.api.new_user(), {"reason": "mine now"})
    assert r.status_code == 404
    r = m.post(f"/bookings/{booking_id}/cancel", m.renter, {"reason": "   "})
    assert r.status_code == 422 and code(r) == "reason_required"
    r = m.post(f"/bookings/{booking_id}/cancel", m.renter, {})
    assert r.status_code == 422
    assert m.get(booking_id).json()["status"] == "pending_payment"


def test_cancelling_twice_is_409(market: MarketFactory) -> None:
    m = market()
    booking_id = m.placed()["id"]
    assert m.post(f"/bookings/{booking_id}/cancel", m.renter, {"reason": "x"}).status_code == 200
    r = m.post(f"/bookings/{booking_id}/cancel", m.renter, {"reason": "x"})
    assert r.status_code == 409 and code(r) == "invalid_booking_transition"


# -- reading ---------------------------------------------------------------------------------


def test_a_booking_is_visible_to_its_parties_and_admins_only(market: MarketFactory) -> None:
    m = market()
    booking_id = m.placed()["id"]
    for auth in (m.renter, m.owner, m.admin):
        r = m.get(booking_id, auth)
        assert r.status_code == 200 and r.json()["id"] == booking_id
        assert r.headers["ETag"] == '"1"'
    r = m.get(booking_id, m.api.new_user())
    assert r.status_code == 404 and code(r) == "booking_not_found"
    assert m.get(MISSING).status_code == 404
    assert m.api.client.get(f"{API}/bookings/{booking_id}").status_code == 401


def test_my_bookings_by_role_and_status_page_with_a_cursor(api: Api, market: MarketFactory) -> None:
    m = market(quantity=5)
    ids = []
    for _ in range(3):
        ids.append(m.placed()["id"])
        api.clock.advance(minutes=1)
    m.post(f"/bookings/{ids[0]}/cancel", m.renter, {"reason": "x"})
    position = str(api.container.store.current_position())
    url = f"{API}/me/bookings"

    def page(auth: Auth, **params: Any) -> dict[str, Any]:
        headers = {**auth.headers, "X-Rentbook-Min-Position": position}
        r = api.client.get(url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    mine = page(m.renter)
    assert [b["id"] for b in mine["data"]] == ids[::-1] and mine["next_cursor"] is None
    assert mine["data"][0]["total"]["currency"] == "EUR"
    first = page(m.renter, limit=2)
    assert [b["id"] for b in first["data"]] == [ids[2], ids[1]]
    rest = page(m.renter, limit=2, cursor=first["next_cursor"])
    assert [b["id"] for b in rest["data"]] == [ids[0]] and rest["next_cursor"] is None
    assert [b["id"] for b in page(m.renter, status="cancelled")["data"]] == [ids[0]]
    pending = page(m.owner, role="owner", status="pending_payment")
    assert [b["id"] for b in pending["data"]] == [ids[2], ids[1]]
    assert page(m.owner)["data"] == []  # the owner rents nothing
    assert page(m.renter, role="owner")["data"] == []
    assert (
        api.client.get(url, params={"role": "landlord"}, headers=m.renter.headers).status_code
        == 422
    )
