"""Orders over HTTP, on SQLite and on PostgreSQL: a basket of several listings placed all or
nothing with one service fee, refused whole with the unavailable items named, read by its
renter and (their items only) by its owners, listed, paid with one command, cancelled with
per-item refunds, and a ledger that balances per owner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import Response

from tests.http.conftest import API, Api, Auth
from tests.http.test_admin_ledger_http import settled
from tests.http.test_bookings_http import open_listing
from tests.polling import eventually


@pytest.fixture(params=["sqlite", "postgres"])
def any_api(request: pytest.FixtureRequest) -> Api:
    api: Api = request.getfixturevalue("api" if request.param == "sqlite" else "pg_api")
    return api


class Shop:
    """Two owners, three listings (owner A has two), one renter, an admin."""

    def __init__(self, api: Api, **overrides: Any) -> None:
        self.api = api
        self.admin, self.renter = api.admin(), api.new_user()
        self.owner_a, self.owner_b = api.new_user(), api.new_user()
        self.a1 = open_listing(api, self.owner_a, self.admin, **overrides)
        self.a2 = open_listing(api, self.owner_a, self.admin, quantity=2, **overrides)
        self.b1 = open_listing(
            api, self.owner_b, self.admin, cancellation_policy="flexible", **overrides
        )

    def day(self, offset: int) -> str:
        return (self.api.clock.now().date() + timedelta(days=offset)).isoformat()

    def item(self, listing_id: str, start: int, end: int, quantity: int = 1) -> dict[str, Any]:
        return {
            "listing_id": listing_id,
            "start": self.day(start),
            "end": self.day(end),
            "quantity": quantity,
        }

    def basket(self) -> list[dict[str, Any]]:
        return [
            self.item(self.a1, 30, 32),
            self.item(self.a2, 31, 34, 2),
            self.item(self.b1, 40, 41),
        ]

    def order(self, items: list[dict[str, Any]], auth: Auth | None = None, **kw: Any) -> Response:
        headers = (auth or self.renter).headers | kw.pop("headers", {})
        return self.api.client.post(f"{API}/orders", json={"items": items, **kw}, headers=headers)

    def placed(self, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        r = self.order(items or self.basket())
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def get(self, path: str, auth: Auth, **headers: str) -> Response:
        return self.api.client.get(f"{API}{path}", headers=auth.headers | headers)

    def post(self, path: str, auth: Auth, json: Any = None) -> Response:
        return self.api.client.post(f"{API}{path}", json=json, headers=auth.headers)

    def refunded(self, order_id: str) -> dict[str, Any]:
        """The order once its refunds, jobs on the worker thread, have all run."""

        def statuses() -> list[str]:
            body = self.get(f"/orders/{order_id}", self.renter).json()
            return [body["status"], *(i["booking"]["status"] for i in body["items"])]

        eventually(lambda: statuses()[0] == "refunded", "the order refunded", seen=statuses)
        return dict(self.get(f"/orders/{order_id}", self.renter).json())

    def wait(self) -> dict[str, str]:
        return {"X-Rentbook-Min-Position": str(self.api.container.store.current_position())}

    def free_units(self, listing_id: str, start: int, end: int) -> list[int]:
        r = self.api.client.get(
            f"{API}/listings/{listing_id}/calendar",
            params={"from": self.day(start), "to": self.day(end)},
            headers=self.wait(),
        )
        assert r.status_code == 200, r.text
        return [d["available_units"] for d in r.json()]

    def paid(self) -> dict[str, Any]:
        order = self.placed()
        r = self.post(f"/orders/{order['id']}/payment", self.renter)
        assert r.status_code == 200, r.text
        s = self.post(f"/dev/payments/{r.json()['charge_id']}/succeed", self.renter)
        assert s.status_code == 200, s.text
        return order


def test_a_basket_is_placed_whole_with_one_service_fee(any_api: Api) -> None:
    shop = Shop(any_api)
    r = shop.order(shop.basket(), guests=2)
    assert r.status_code == 201, r.text
    order = r.json()
    assert r.headers["Location"] == f"/api/v1/orders/{order['id']}"
    assert int(r.headers["X-Rentbook-Position"]) > 0
    assert order["status"] == "pending_payment" and len(order["items"]) == 3
    bookings = [i["booking"] for i in order["items"]]
    assert [b["listing_id"] for b in bookings] == [shop.a1, shop.a2, shop.b1]
    assert {b["status"] for b in bookings} == {"pending_payment"}
    # 2 nights + 3 nights x 2 units + 1 night at 100 EUR; ONE 12 % fee on 900 EUR.
    quote = order["quote"]
    assert [i["subtotal"] for i in quote["items"]] == [20_000, 60_000, 10_000]
    assert quote["service_fee"] == 10_800 and quote["total"] == 100_800
    assert sum(b["quote"]["total"] for b in bookings) == quote["total"]
    assert sum(b["quote"]["service_fee"] for b in bookings) == quote["service_fee"]
    assert shop.free_units(shop.a2, 30, 35) == [2, 0, 0, 0, 2]


def test_one_unavailable_item_refuses_the_whole_order_and_holds_nothing(any_api: Api) -> None:
    shop = Shop(any_api)
    shop.placed([shop.item(shop.b1, 40, 41)])  # the renter's own earlier order takes b1
    r = shop.order(shop.basket(), auth=any_api.new_user())
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "unavailable"
    assert [(i["index"], i["listing_id"]) for i in problem["items"]] == [(2, shop.b1)]
    assert shop.free_units(shop.a1, 30, 32) == [1, 1]
    assert shop.free_units(shop.a2, 31, 34) == [2, 2, 2]


def test_two_items_of_one_listing_share_its_units_within_the_order(api: Api) -> None:
    shop = Shop(api)
    twice = [shop.item(shop.a2, 31, 33), shop.item(shop.a2, 32, 34)]
    assert shop.order(twice).status_code == 201
    assert shop.free_units(shop.a2, 31, 34) == [1, 0, 1]
    r = shop.order([shop.item(shop.a1, 50, 51), *twice], auth=api.new_user())
    assert r.status_code == 409
    assert [i["index"] for i in r.json()["items"]] == [1, 2]


def test_a_rule_broken_by_one_item_is_422_naming_it(api: Api) -> None:
    shop = Shop(api)
    r = shop.order([shop.item(shop.a1, 30, 31), shop.item(shop.b1, -2, 1)])
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "in_the_past" and r.json()["item_index"] == 1
    own = shop.order([shop.item(shop.a1, 30, 31)], auth=shop.owner_a)
    assert own.status_code == 422 and own.json()["code"] == "own_listing"
    assert shop.order([]).status_code == 422
    missing = shop.order([shop.item("00000000-0000-4000-8000-000000000000", 30, 31)])
    assert missing.status_code == 404
    assert shop.free_units(shop.a1, 30, 31) == [1]


def test_renter_owners_admin_and_strangers_see_what_they_may(any_api: Api) -> None:
    shop = Shop(any_api)
    order = shop.placed()
    path = f"/orders/{order['id']}"
    assert len(shop.get(path, shop.renter).json()["items"]) == 3
    assert len(shop.get(path, shop.admin).json()["items"]) == 3
    seen_by_a = shop.get(path, shop.owner_a).json()
    assert [i["index"] for i in seen_by_a["items"]] == [0, 1] and seen_by_a["quote"] is None
    assert [i["index"] for i in shop.get(path, shop.owner_b).json()["items"]] == [2]
    assert shop.get(path, any_api.new_user()).status_code == 404
    assert shop.post(f"{path}/cancel", shop.owner_a, {"reason": "no"}).status_code == 403


def test_my_orders_lists_newest_first_with_a_cursor_and_derived_status(any_api: Api) -> None:
    shop = Shop(any_api)
    first = shop.placed([shop.item(shop.a1, 30, 31)])
    any_api.clock.advance(seconds=1)
    second = shop.placed([shop.item(shop.a1, 31, 32), shop.item(shop.b1, 31, 32)])
    page = shop.get("/me/orders?limit=1", shop.renter, **shop.wait()).json()
    assert [o["id"] for o in page["data"]] == [second["id"]]
    assert page["data"][0]["item_count"] == 2 and page["data"][0]["status"] == "pending_payment"
    rest = shop.get(f"/me/orders?limit=1&cursor={page['next_cursor']}", shop.renter).json()
    assert [o["id"] for o in rest["data"]] == [first["id"]] and rest["next_cursor"] is None
    assert shop.get("/me/orders", shop.owner_a, **shop.wait()).json()["data"] == []


def test_an_order_is_paid_once_and_confirms_every_item(any_api: Api) -> None:
    shop = Shop(any_api)
    order = shop.paid()
    body = shop.get(f"/orders/{order['id']}", shop.renter).json()
    assert body["status"] == "confirmed"
    assert {i["booking"]["status"] for i in body["items"]} == {"confirmed"}
    listed = shop.get("/me/orders", shop.renter, **shop.wait()).json()["data"]
    assert listed[0]["status"] == "confirmed"
    again = shop.post(f"/orders/{order['id']}/payment", shop.renter)
    assert again.status_code == 409 and again.json()["code"] == "order_not_payable"


def test_a_request_to_book_item_makes_the_order_wait_for_its_owner(api: Api) -> None:
    shop = Shop(api)
    request = open_listing(api, shop.owner_b, shop.admin, booking_mode="request")
    order = shop.placed([shop.item(shop.a1, 30, 31), shop.item(request, 30, 31)])
    assert order["status"] == "pending_owner_approval"
    r = shop.post(f"/orders/{order['id']}/payment", shop.renter)
    assert r.status_code == 409 and r.json()["code"] == "order_not_payable"
    booking_id = order["items"][1]["booking"]["id"]
    assert shop.post(f"/bookings/{booking_id}/approve", shop.owner_b).status_code == 200
    assert shop.post(f"/orders/{order['id']}/payment", shop.renter).status_code == 200


def test_a_cancelled_paid_order_refunds_per_item_and_the_ledger_balances(any_api: Api) -> None:
    shop = Shop(any_api)
    order = shop.paid()
    # 36 days ahead: moderate (owner A) and flexible (owner B) both refund the whole stay.
    r = shop.post(f"/orders/{order['id']}/cancel", shop.renter, {"reason": "plans changed"})
    assert r.status_code == 200, r.text
    cancelled = r.json()
    assert cancelled["cancelled"]["role"] == "renter"
    assert all(i["booking"]["refund_due"]["amount"] > 0 for i in cancelled["items"])
    assert shop.free_units(shop.a2, 31, 34) == [2, 2, 2]
    shop.refunded(order["id"])
    headers = shop.admin.headers | settled(any_api)
    verify = any_api.client.get(f"{API}/admin/ledger/verify", headers=headers).json()
    assert verify["balanced"] and verify["derived_matches_recorded"], verify
    for owner in (shop.owner_a, shop.owner_b):
        accounts = any_api.client.get(
            f"{API}/admin/ledger/accounts", params={"owner_id": owner.id}, headers=headers
        ).json()["data"]
        payable = [a for a in accounts if a["account"].startswith("liabilities:owner_payable")]
        assert payable and all(a["balance"] == 0 for a in payable), accounts
    for item in cancelled["items"]:
        entries = any_api.client.get(
            f"{API}/admin/ledger/entries",
            params={"booking_id": item["booking"]["id"]},
            headers=headers,
        ).json()["data"]
        assert len(entries) >= 2  # the capture and the refund, each balanced


def test_a_retried_order_with_the_same_key_is_not_placed_twice(api: Api) -> None:
    shop = Shop(api)
    key = {"Idempotency-Key": "basket-1"}
    first = shop.order(shop.basket(), headers=key)
    again = shop.order(shop.basket(), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert shop.free_units(shop.a2, 31, 34) == [0, 0, 0]
