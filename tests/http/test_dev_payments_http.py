"""The simulated card network's dev endpoints over HTTP: `/succeed` settles every pending step
(charge and deposit hold) or the one `{step}` names; a declined deposit keeps the booking
waiting, tells the renter on `GET /bookings/{id}/payment`, and a retry with another card
confirms it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.conftest import API, Api
from tests.http.test_bookings_http import Market, code, open_listing
from tests.http.test_disputes_http import DEPOSIT


@pytest.fixture
def m(api: Api) -> Market:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    return Market(api, owner, admin, renter, open_listing(api, owner, admin, deposit=DEPOSIT))


def _payment(m: Market, booking_id: str, auth: Any = None) -> Any:
    position = str(m.api.container.store.current_position())
    return m.api.client.get(
        f"{API}/bookings/{booking_id}/payment",
        headers=(auth or m.renter).headers | {"X-Rentbook-Min-Position": position},
    )


def _ok(m: Market, path: str, body: Any = None) -> Any:
    r = m.post(path, m.renter, body)
    assert r.status_code == 200, r.text
    return r.json()


def test_succeed_without_a_step_settles_the_charge_and_the_deposit(m: Market) -> None:
    booking_id = m.placed()["id"]
    payment_id = m.pay(booking_id)

    assert _ok(m, f"/dev/payments/{payment_id}/succeed")["status"] == "succeeded"

    assert m.get(booking_id).json()["status"] == "confirmed"
    payment = _payment(m, booking_id).json()
    assert payment["status"] == "captured" and payment["deposit_status"] == "authorized"
    assert payment["problem"] is None and payment["payment_id"] == payment_id
    again = m.post(f"/dev/payments/{payment_id}/succeed", m.renter)
    assert again.status_code == 409 and code(again) == "payment_settled"


def test_succeed_with_a_step_settles_only_that_step(m: Market) -> None:
    booking_id = m.placed()["id"]
    payment_id = m.pay(booking_id)

    _ok(m, f"/dev/payments/{payment_id}/succeed", {"step": "charge"})

    assert m.get(booking_id).json()["status"] == "pending_payment"  # waits for its deposit
    payment = _payment(m, booking_id).json()
    assert (payment["status"], payment["deposit_status"]) == ("captured", "none")
    charge_again = m.post(f"/dev/payments/{payment_id}/succeed", m.renter, {"step": "charge"})
    assert charge_again.status_code == 409 and code(charge_again) == "payment_settled"

    _ok(m, f"/dev/payments/{payment_id}/succeed", {"step": "deposit"})

    assert m.get(booking_id).json()["status"] == "confirmed"
    assert _payment(m, booking_id).json()["deposit_status"] == "authorized"
    bad = m.post(f"/dev/payments/{payment_id}/succeed", m.renter, {"step": "payout"})
    assert bad.status_code == 422


def test_a_declined_deposit_is_told_to_the_renter_who_retries_with_another_card(
    m: Market,
) -> None:
    booking_id = m.placed()["id"]
    payment_id = m.pay(booking_id)
    declined = {"step": "deposit", "reason": "insufficient_funds"}

    assert _ok(m, f"/dev/payments/{payment_id}/fail", declined)["status"] == "failed"
    _ok(m, f"/dev/payments/{payment_id}/succeed", {"step": "charge"})

    assert m.get(booking_id).json()["status"] == "pending_payment"
    told = _payment(m, booking_id)
    assert told.status_code == 200, told.text
    body = told.json()
    assert body["status"] == "captured" and body["deposit_status"] == "declined"
    assert body["problem"]["code"] == "deposit_declined"
    assert _payment(m, booking_id, m.owner).json()["deposit_status"] == "declined"
    stranger = m.api.new_user()
    assert _payment(m, booking_id, stranger).status_code == 404

    _ok(m, f"/dev/payments/{payment_id}/succeed", {"step": "deposit"})  # another card

    assert m.get(booking_id).json()["status"] == "confirmed"
    after = _payment(m, booking_id).json()
    assert after["deposit_status"] == "authorized" and after["problem"] is None


def test_a_booking_not_paid_yet_has_no_payment_resource(m: Market) -> None:
    booking_id = m.placed()["id"]
    r = _payment(m, booking_id)
    assert r.status_code == 404 and code(r) == "payment_not_found"
    assert m.api.client.get(f"{API}/bookings/{booking_id}/payment").status_code == 401
