"""Bookings over HTTP, paid: the simulated gateway, idempotent retries and the deadlines that
expire unpaid holds."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.bookings_support import (
    MISSING,
    Market,
    MarketFactory,
    code,
    market_factory,
)
from tests.http.conftest import API, Api
from tests.polling import eventually


@pytest.fixture
def market(api: Api) -> MarketFactory:
    return market_factory(api)


# -- payments --------------------------------------------------------------------------------


def test_paying_then_capture_confirms_the_booking_and_reserves_the_units(
    market: MarketFactory,
) -> None:
    m = market()
    booking = m.placed()
    r = m.post(f"/bookings/{booking['id']}/payment", m.renter)
    assert r.status_code == 200, r.text
    payment = r.json()
    assert payment["status"] == "requires_confirmation" and payment["client_secret"]
    assert int(r.headers["X-Rentbook-Position"]) > 0
    r = m.post(f"/dev/payments/{payment['payment_id']}/succeed", m.renter)
    assert r.status_code == 200 and r.json()["status"] == "succeeded"
    got = m.get(booking["id"]).json()
    assert got["status"] == "confirmed" and got["payment_id"] == payment["payment_id"]
    assert got["expires_at"] is None
    position = str(m.api.container.store.current_position())
    days = m.api.client.get(
        f"{API}/listings/{m.listing_id}/calendar",
        params={"from": m.day(30), "to": m.day(32)},
        headers={"X-Rentbook-Min-Position": position},
    ).json()
    assert [(d["available_units"], d["reserved"], d["held"]) for d in days] == [(0, 1, 0)] * 2


def test_a_declined_card_cancels_the_booking_and_frees_the_units(market: MarketFactory) -> None:
    m = market()
    booking_id = m.placed()["id"]
    payment_id = m.pay(booking_id)
    r = m.post(f"/dev/payments/{payment_id}/fail", m.renter, {"reason": "insufficient_funds"})
    assert r.status_code == 200 and r.json()["status"] == "failed"
    got = m.get(booking_id).json()
    assert got["status"] == "cancelled" and got["status_reason"] == "insufficient_funds"
    assert m.free_units(30, 32) == [1, 1]
    assert m.book(30, 32, auth=m.api.new_user()).status_code == 201


def test_paying_twice_gives_the_same_payment_and_one_charge(market: MarketFactory) -> None:
    m = market()
    booking_id = m.placed()["id"]
    first = m.post(f"/bookings/{booking_id}/payment", m.renter)
    second = m.post(f"/bookings/{booking_id}/payment", m.renter)
    assert second.status_code == 200
    assert second.json()["payment_id"] == first.json()["payment_id"]
    assert second.json()["client_secret"] == first.json()["client_secret"]
    assert second.headers["X-Rentbook-Position"] == "0"  # nothing new recorded
    assert m.get(booking_id).json()["version"] == 2


def test_capturing_a_payment_twice_is_409_and_the_booking_stays_confirmed(
    market: MarketFactory,
) -> None:
    m = market()
    booking_id = m.placed()["id"]
    payment_id = m.pay(booking_id)
    assert m.post(f"/dev/payments/{payment_id}/succeed", m.renter).status_code == 200
    r = m.post(f"/dev/payments/{payment_id}/succeed", m.renter)
    assert r.status_code == 409 and code(r) == "payment_settled"
    assert m.get(booking_id).json()["status"] == "confirmed"


def test_money_captured_after_the_renter_cancelled_is_refunded(market: MarketFactory) -> None:
    m = market()
    booking_id = m.placed()["id"]
    payment_id = m.pay(booking_id)
    assert m.post(f"/bookings/{booking_id}/cancel", m.renter, {"reason": "x"}).status_code == 200
    r = m.post(f"/dev/payments/{payment_id}/succeed", m.renter)
    assert r.status_code == 200
    assert m.get(booking_id).json()["status"] == "cancelled"
    assert m.free_units(30, 32) == [1, 1]


def test_only_the_renter_pays_and_only_while_pending_payment(market: MarketFactory) -> None:
    m = market(booking_mode="request")
    booking_id = m.placed()["id"]
    r = m.post(f"/bookings/{booking_id}/payment", m.renter)
    assert r.status_code == 409 and code(r) == "not_payable"
    m.post(f"/bookings/{booking_id}/approve", m.owner)
    r = m.post(f"/bookings/{booking_id}/payment", m.owner)
    assert r.status_code == 403 and code(r) == "not_renter"
    r = m.post(f"/bookings/{booking_id}/payment", m.api.admin())
    assert r.status_code == 403 and code(r) == "not_renter"
    assert m.post(f"/bookings/{booking_id}/payment", m.api.new_user()).status_code == 404
    assert m.post(f"/bookings/{booking_id}/payment", m.renter).status_code == 200


def test_unknown_payment_ids_are_404_on_the_dev_gateway(market: MarketFactory) -> None:
    m = market()
    r = m.post(f"/dev/payments/{MISSING}/succeed", m.renter)
    assert r.status_code == 404 and code(r) == "payment_not_found"


# -- idempotency -----------------------------------------------------------------------------


def test_an_idempotency_key_replays_the_same_booking(market: MarketFactory) -> None:
    m = market(quantity=3)
    headers = {"Idempotency-Key": "book-7f0c"}
    first = m.book(30, 32, headers=headers)
    again = m.book(30, 32, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["X-Rentbook-Position"] == first.headers["X-Rentbook-Position"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert m.free_units(30, 32) == [2, 2]  # booked once
    r = m.book(30, 33, headers=headers)
    assert r.status_code == 422
    other = m.book(30, 32, auth=m.api.new_user(), headers=headers)  # keys are per user
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


# -- deadlines -------------------------------------------------------------------------------


def _wait_for_views(api: Api) -> None:
    assert api.container.runner.wait_for(api.container.store.current_position(), None, 5.0)


def _status_becomes(m: Market, booking_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        body: dict[str, Any] = m.get(booking_id).json()
        return body if body["status"] == status else None

    return eventually(reached, f"the booking {status}", seen=lambda: m.get(booking_id).json())


def test_an_unpaid_hold_expires_after_15_minutes_and_frees_the_units(
    api: Api, market: MarketFactory
) -> None:
    m = market()
    booking_id = m.placed()["id"]
    _wait_for_views(api)
    assert api.container.scheduler.run_due(api.clock.now()) == 0
    api.clock.advance(minutes=16)
    api.container.scheduler.run_due(api.clock.now())
    body = _status_becomes(m, booking_id, "cancelled")
    assert body["status_reason"] == "not paid or answered in time"
    assert m.free_units(30, 32) == [1, 1]
    assert m.book(30, 32, auth=api.new_user()).status_code == 201


def test_the_in_process_scheduler_expires_an_unanswered_request(
    api: Api, market: MarketFactory
) -> None:
    m = market(booking_mode="request")
    booking_id = m.placed()["id"]
    _wait_for_views(api)
    api.clock.advance(hours=24, minutes=1)
    _status_becomes(m, booking_id, "cancelled")  # no run_due: the worker thread does it
    assert m.free_units(30, 32) == [1, 1]


def test_an_expired_hold_shows_free_in_the_calendar_before_the_scheduler_runs(
    api: Api, market: MarketFactory
) -> None:
    m = market()
    m.placed()
    _wait_for_views(api)
    api.clock.advance(minutes=16)
    assert m.free_units(30, 32) == [1, 1]


def test_money_arriving_after_the_hold_lapsed_is_refunded_and_the_booking_lapses(
    api: Api, market: MarketFactory
) -> None:
    m = market()
    booking_id = m.placed()["id"]
    payment_id = m.pay(booking_id)
    api.clock.advance(minutes=16)
    r = m.post(f"/dev/payments/{payment_id}/succeed", m.renter)
    assert r.status_code == 200, r.text
    body = _status_becomes(m, booking_id, "cancelled")
    assert body["refund_due"] is None
    assert m.free_units(30, 32) == [1, 1]
