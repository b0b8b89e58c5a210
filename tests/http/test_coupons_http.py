"""Coupons over HTTP on the embedded default: creating and listing, quotes and bookings with a
code, every refusal's code, limits, redemptions given back, owners' coupons, welcome coupons
and who funds the discount in the ledger."""

from __future__ import annotations

from typing import Any

from domain.ledger import PROMOTIONS, owner_payable
from tests.coupon_builders import (
    coupon_row,
    create_coupon,
    later,
    lines_add_up,
    listed,
    new_market,
    processed,
    quote,
    unique_code,
)
from tests.http.conftest import API, Api
from tests.http.test_admin_ledger_http import settled
from tests.http.test_bookings_http import code
from tests.polling import eventually

# 2 nights at 100.00: subtotal 20,000; service fee 12% 2,400; commission 3% 600.
SUBTOTAL, SERVICE_FEE, COMMISSION = 20_000, 2_400, 600
TOTAL, PAYOUT = SUBTOTAL + SERVICE_FEE, SUBTOTAL - COMMISSION


def test_codes_are_unique_whatever_their_case_and_listed_with_counts(api: Api) -> None:
    admin = api.admin()
    made = create_coupon(api, admin, code="Summer-25", percent_bp=2500, max_redemptions=10)
    assert made["code"] == "SUMMER-25" and made["funded_by"] == "platform"
    assert made["redeemed"] == 0 and made["active"] is True
    again = api.client.post(
        f"{API}/admin/coupons",
        json={"code": "summer-25", "kind": "fixed", "amount": {"amount": 500}},
        headers=admin.headers,
    )
    assert again.status_code == 409 and code(again) == "coupon_code_taken"
    row = coupon_row(api, admin, "summer-25")
    assert row["terms"]["percent_bp"] == 2500 and row["terms"]["max_redemptions"] == 10


def test_bad_coupons_are_422_and_only_admins_use_the_admin_endpoint(api: Api) -> None:
    admin, user = api.admin(), api.new_user()
    r = api.client.post(
        f"{API}/admin/coupons", json={"code": "X!", "kind": "percent"}, headers=admin.headers
    )
    assert r.status_code == 422
    no_amount = create_coupon(api, admin, expect=422, kind="fixed")
    assert no_amount["code"] == "bad_coupon"
    bad = {"code": unique_code(), "kind": "percent", "percent_bp": 10, "scope": "category"}
    r = api.client.post(f"{API}/admin/coupons", json=bad, headers=admin.headers)
    assert r.status_code == 422 and code(r) == "bad_coupon"
    r = api.client.post(f"{API}/admin/coupons", json=bad, headers=user.headers)
    assert r.status_code == 403


def test_a_quote_with_a_coupon_has_a_coupon_line_and_a_lower_total(api: Api) -> None:
    m = new_market(api)
    coupon = create_coupon(api, m.admin, percent_bp=1000)
    r = quote(m, coupon["code"].lower())
    assert r.status_code == 200, r.text
    q = r.json()["quote"]
    assert q["coupon_discount"] == 2_000 and q["coupon_funded_by"] == "platform"
    assert q["total"] == TOTAL - 2_000 and q["owner_payout"] == PAYOUT
    assert q["line_items"][-1] == {
        "code": "coupon",
        "label": f"Coupon {coupon['code']}",
        "amount": -2_000,
    }
    assert lines_add_up(q)
    assert quote(m, None).json()["quote"]["total"] == TOTAL


def test_each_refusal_has_its_own_code(api: Api) -> None:
    m = new_market(api)
    admin = m.admin
    cases = {
        "coupon_unknown": "NO-SUCH-CODE",
        "coupon_expired": create_coupon(api, admin, valid_until=later(api, -1))["code"],
        "coupon_not_yet_valid": create_coupon(api, admin, valid_from=later(api, 1))["code"],
        "coupon_minimum_not_met": create_coupon(
            api, admin, min_subtotal={"amount": 50_000, "currency": "EUR"}
        )["code"],
        "coupon_currency_mismatch": create_coupon(
            api, admin, kind="fixed", amount={"amount": 500, "currency": "USD"}
        )["code"],
        "coupon_not_applicable": create_coupon(api, admin, scope="category", category="vehicle")[
            "code"
        ],
    }
    for expected, coupon_code in cases.items():
        r = quote(m, coupon_code)
        assert r.status_code == 422, (expected, r.text)
        assert code(r) == expected
        r = m.book(coupon_code=coupon_code)
        assert r.status_code == 422 and code(r) == expected
    assert m.free_units(30, 32) == [1, 1]  # nothing was held


def test_a_booking_redeems_its_coupon_and_the_limits_hold(api: Api) -> None:
    m = new_market(api, quantity=5)
    coupon = create_coupon(api, m.admin, max_redemptions=2, per_user_limit=1)
    booking = m.placed(coupon_code=coupon["code"])
    assert booking["quote"]["coupon_code"] == coupon["code"]
    assert booking["quote"]["total"] == TOTAL - 2_000
    again = m.book(coupon_code=coupon["code"])
    assert again.status_code == 422 and code(again) == "coupon_user_limit"
    assert m.book(auth=api.new_user(), coupon_code=coupon["code"]).status_code == 201
    r = m.book(auth=api.new_user(), coupon_code=coupon["code"])
    assert r.status_code == 422 and code(r) == "coupon_exhausted"
    assert coupon_row(api, m.admin, coupon["code"])["redeemed"] == 2


def test_a_booking_cancelled_before_its_start_gives_the_redemption_back(api: Api) -> None:
    m = new_market(api, quantity=3)
    coupon = create_coupon(api, m.admin, max_redemptions=1)
    first = m.placed(coupon_code=coupon["code"])
    other = api.new_user()
    assert code(m.book(auth=other, coupon_code=coupon["code"])) == "coupon_exhausted"
    r = m.post(f"/bookings/{first['id']}/cancel", m.renter, {"reason": "plans changed"})
    assert r.status_code == 200, r.text
    processed(api)
    row = coupon_row(api, m.admin, coupon["code"])
    assert (row["redeemed"], row["released"]) == (0, 1)
    assert m.book(auth=other, coupon_code=coupon["code"]).status_code == 201


def test_an_unpaid_booking_that_expires_gives_the_redemption_back(api: Api) -> None:
    m = new_market(api)
    coupon = create_coupon(api, m.admin, max_redemptions=1)
    booking = m.placed(coupon_code=coupon["code"])
    assert api.container.runner.wait_for(api.container.store.current_position(), None, 30)
    api.clock.advance(minutes=16)
    api.container.scheduler.run_due(api.clock.now())  # the deadlines view has the hold
    assert m.get(booking["id"]).json()["status"] == "cancelled"
    processed(api)
    assert coupon_row(api, m.admin, coupon["code"])["redeemed"] == 0


def test_owners_make_coupons_for_their_own_listings_only(api: Api) -> None:
    m = new_market(api)
    stranger = new_market(api)
    mine = create_coupon(
        api, m.owner, path="/me/coupons", scope="listing", listing_ids=[m.listing_id]
    )
    assert mine["funded_by"] == "owner" and mine["terms"]["owner_id"] == m.owner.id
    r = api.client.post(
        f"{API}/me/coupons",
        json={"code": unique_code(), "kind": "percent", "percent_bp": 500, "scope": "listing"}
        | {"listing_ids": [stranger.listing_id]},
        headers=m.owner.headers,
    )
    assert r.status_code == 403 and code(r) == "not_owner"
    everywhere = create_coupon(api, m.owner, path="/me/coupons")
    assert code(quote(stranger, everywhere["code"])) == "coupon_not_applicable"
    q = quote(m, everywhere["code"]).json()["quote"]
    assert q["owner_payout"] == PAYOUT - 2_000 and q["total"] == TOTAL - 2_000
    mine_listed = listed(api, m.owner, "/me/coupons")
    assert {c["code"] for c in mine_listed} == {mine["code"], everywhere["code"]}
    assert listed(api, stranger.owner, "/me/coupons") == []
    r = m.post(f"/me/coupons/{mine['id']}/deactivate", stranger.owner)
    assert r.status_code == 404
    r = m.post(f"/me/coupons/{mine['id']}/deactivate", m.owner)
    assert r.status_code == 200 and r.json()["active"] is False
    assert code(quote(m, mine["code"])) == "coupon_inactive"


def test_a_first_booking_coupon_is_refused_once_the_renter_has_booked(api: Api) -> None:
    m = new_market(api, quantity=3)
    coupon = create_coupon(api, m.admin, scope="first_booking", per_user_limit=None)
    assert quote(m, coupon["code"]).status_code == 200
    m.placed(start=40, end=41)
    settled_position = str(api.container.store.current_position())
    assert api.container.runner.wait_for(int(settled_position), ["bookings"], 30)
    r = quote(m, coupon["code"])
    assert r.status_code == 422 and code(r) == "coupon_first_booking_only"


def test_signing_up_issues_a_personal_welcome_coupon_once(api: Api) -> None:
    admin = api.admin()
    m = new_market(api)
    processed(api)
    welcome = _welcome_of(api, admin, m.renter.id)
    assert welcome["terms"]["max_redemptions"] == 1 and welcome["funded_by"] == "platform"
    assert code(quote(m, welcome["code"], auth=api.new_user())) == "coupon_not_yours"
    assert quote(m, welcome["code"]).status_code == 200
    # a retried job (or a replayed log) finds the coupon it made
    process = api.container.coupon_process
    assert process is not None
    assert process.issue_welcome(m.renter.id, api.clock.now().isoformat()) == welcome["id"]
    assert len([c for c in listed(api, admin) if c["terms"]["user_id"] == m.renter.id]) == 1


def _welcome_of(api: Api, admin: Any, user_id: str) -> dict[str, Any]:
    found = eventually(  # the job runs on a worker (rq on PostgreSQL)
        lambda: [c for c in listed(api, admin) if c["terms"]["user_id"] == user_id],
        "the welcome coupon",
    )
    return found[0]


def test_the_ledger_shows_who_funded_the_discount(api: Api) -> None:
    m = new_market(api, quantity=2)
    platform = create_coupon(api, m.admin, percent_bp=1000)
    owners = create_coupon(api, m.owner, path="/me/coupons", percent_bp=1000)
    m.paid(coupon_code=platform["code"])
    _paid_by_other(m, owners["code"])
    headers = {**m.admin.headers, **settled(api)}
    accounts = api.client.get(
        f"{API}/admin/ledger/accounts", params={"owner_id": m.owner.id}, headers=headers
    ).json()["data"]
    (payable,) = [a for a in accounts if a["account"] == owner_payable(m.owner.id)]
    # the platform's coupon leaves the owner's share whole; the owner's own coupon lowers it
    assert payable["credits"] == PAYOUT + (PAYOUT - 2_000)
    promotions = api.client.get(
        f"{API}/admin/ledger/accounts", params={"prefix": PROMOTIONS}, headers=headers
    ).json()["data"]
    assert [(a["account"], a["balance"]) for a in promotions] == [(PROMOTIONS, 2_000)]
    verified = api.client.get(f"{API}/admin/ledger/verify", headers=headers).json()
    assert verified["balanced"] and verified["derived_matches_recorded"]


def _paid_by_other(m: Any, coupon_code: str) -> None:
    renter = m.api.new_user()
    r = m.book(32, 34, auth=renter, coupon_code=coupon_code)
    assert r.status_code == 201, r.text
    booking_id = r.json()["id"]
    paid = m.post(f"/bookings/{booking_id}/payment", renter)
    assert paid.status_code == 200, paid.text
    done = m.post(f"/dev/payments/{paid.json()['payment_id']}/succeed", renter)
    assert done.status_code == 200, done.text
