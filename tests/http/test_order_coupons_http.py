"""Coupons on orders over HTTP, on SQLite and PostgreSQL: the discount is a line of the
order's quote, split over the items in the coupon's scope; the order pays and cancels with
a balanced ledger that shows who funded it; one redemption per order, given back when the
whole order ends before it starts; refused orders redeem nothing."""

from __future__ import annotations

from typing import Any

from domain.ledger import PROMOTIONS
from tests.coupon_builders import coupon_row, create_coupon, lines_add_up, processed
from tests.http.conftest import API, Api
from tests.http.test_admin_ledger_http import settled
from tests.http.test_orders_http import Shop, any_api  # noqa: F401 (the fixture)


def _placed(shop: Shop, coupon_code: str, items: list[dict[str, Any]] | None = None) -> Any:
    r = shop.order(items or shop.basket(), coupon_code=coupon_code)
    assert r.status_code == 201, r.text
    return r.json()


def _verified(api: Api, shop: Shop) -> dict[str, str]:
    headers = shop.admin.headers | settled(api)
    verify = api.client.get(f"{API}/admin/ledger/verify", headers=headers).json()
    assert verify["balanced"] and verify["derived_matches_recorded"], verify
    return headers


def _promotions(api: Api, headers: dict[str, str]) -> int:
    rows = api.client.get(
        f"{API}/admin/ledger/accounts", params={"prefix": PROMOTIONS}, headers=headers
    ).json()["data"]
    return sum(int(a["balance"]) for a in rows)


def test_an_order_coupon_is_split_over_its_scope_paid_and_given_back(any_api: Api) -> None:  # noqa: F811
    shop = Shop(any_api)
    coupon = create_coupon(any_api, shop.admin, scope="listing", listing_ids=[shop.a1, shop.a2])
    order = _placed(shop, coupon["code"])
    # 10 % of the in-scope subtotals (200 + 600 EUR), split 20 + 60; b1 (100 EUR) untouched.
    quote = order["quote"]
    assert quote["coupon_code"] == coupon["code"] and quote["coupon_discount"] == 8_000
    assert quote["line_items"][-1] == {
        "code": "coupon",
        "label": f"Coupon {coupon['code']}",
        "amount": -8_000,
    }
    assert quote["total"] == 100_800 - 8_000 and lines_add_up(quote)
    bookings = [i["booking"] for i in order["items"]]
    assert [b["quote"].get("coupon_discount", 0) for b in bookings] == [2_000, 6_000, 0]
    assert sum(b["quote"]["total"] for b in bookings) == quote["total"]
    assert all(lines_add_up(b["quote"]) for b in bookings)
    assert coupon_row(any_api, shop.admin, coupon["code"])["redeemed"] == 1  # once per order

    r = shop.post(f"/orders/{order['id']}/payment", shop.renter)
    assert r.status_code == 200, r.text
    assert r.json()["total"]["amount"] == quote["total"]
    s = shop.post(f"/dev/payments/{r.json()['charge_id']}/succeed", shop.renter)
    assert s.status_code == 200, s.text
    headers = _verified(any_api, shop)
    assert _promotions(any_api, headers) == 8_000  # the platform funds it, in the ledger

    r = shop.post(f"/orders/{order['id']}/cancel", shop.renter, {"reason": "plans changed"})
    assert r.status_code == 200, r.text
    body = shop.refunded(order["id"])
    headers = _verified(any_api, shop)
    for item in body["items"]:  # each item refunds what it was charged, discount included
        assert item["booking"]["refund_due"]["amount"] == item["booking"]["quote"]["total"]
    processed(any_api)
    row = coupon_row(any_api, shop.admin, coupon["code"])
    assert (row["redeemed"], row["released"]) == (0, 1)


def test_an_owner_coupon_discounts_only_that_owners_items(api: Api) -> None:
    shop = Shop(api)
    coupon = create_coupon(api, shop.owner_a, path="/me/coupons", percent_bp=1000)
    order = _placed(shop, coupon["code"])
    bookings = [i["booking"] for i in order["items"]]
    assert [b["quote"].get("coupon_discount", 0) for b in bookings] == [2_000, 6_000, 0]
    plain = shop.placed([shop.item(shop.a1, 60, 62)])["items"][0]["booking"]["quote"]
    assert bookings[0]["quote"]["owner_payout"] == plain["owner_payout"] - 2_000
    other = api.new_user()  # an owner's coupon is once per renter by default
    only_b = shop.order([shop.item(shop.b1, 50, 51)], auth=other, coupon_code=coupon["code"])
    assert only_b.status_code == 422 and only_b.json()["code"] == "coupon_not_applicable"
    assert shop.free_units(shop.b1, 50, 51) == [1]


def test_refused_orders_redeem_nothing_and_the_limit_holds(api: Api) -> None:
    shop = Shop(api)
    coupon = create_coupon(api, shop.admin, max_redemptions=1)
    rich = create_coupon(api, shop.admin, min_subtotal={"amount": 95_000, "currency": "EUR"})
    short = shop.order(shop.basket(), coupon_code=rich["code"])  # 900 EUR in the basket
    assert short.status_code == 422 and short.json()["code"] == "coupon_minimum_not_met"
    shop.placed([shop.item(shop.b1, 40, 41)])  # takes b1: the basket below is refused whole
    refused = shop.order(shop.basket(), auth=api.new_user(), coupon_code=coupon["code"])
    assert refused.status_code == 409 and refused.json()["code"] == "unavailable"
    assert coupon_row(api, shop.admin, coupon["code"])["redeemed"] == 0
    assert shop.free_units(shop.a2, 31, 34) == [2, 2, 2]
    first = shop.order([shop.item(shop.a1, 30, 32)], coupon_code=coupon["code"])
    assert first.status_code == 201, first.text
    second = shop.order(
        [shop.item(shop.a2, 31, 33)], auth=api.new_user(), coupon_code=coupon["code"]
    )
    assert second.status_code == 422 and second.json()["code"] == "coupon_exhausted"
    assert shop.free_units(shop.a2, 31, 33) == [2, 2]


def test_an_order_that_expires_unpaid_gives_its_redemption_back(api: Api) -> None:
    shop = Shop(api)
    coupon = create_coupon(api, shop.admin, max_redemptions=1)
    order = _placed(shop, coupon["code"])
    assert api.container.runner.wait_for(api.container.store.current_position(), None, 30)
    api.clock.advance(minutes=16)
    api.container.scheduler.run_due(api.clock.now())
    assert shop.get(f"/orders/{order['id']}", shop.renter).json()["status"] == "cancelled"
    processed(api)
    row = coupon_row(api, shop.admin, coupon["code"])
    assert (row["redeemed"], row["released"]) == (0, 1)
