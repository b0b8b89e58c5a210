"""`GET /me/dashboard` and `GET /admin/analytics` over a running app, on the embedded default
and on PostgreSQL: real bookings paid through the simulated gateway, figures that reconcile
with the ledger's accounts, and who may see what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from domain.ledger import PLATFORM_FEES, owner_payable
from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, open_listing


@dataclass
class Shop:
    """Two listings of one owner (instant, and request-to-book), one paid booking on the
    first, one request on the second."""

    api: Api
    market: Market
    request_listing: str
    paid: dict[str, Any]
    request: dict[str, Any]

    def headers(self, auth: Auth) -> dict[str, str]:
        ledger = self.api.container.ledger
        assert ledger is not None
        ledger.catch_up()  # the ledger follows payments on its own thread: not yet, maybe
        position = str(self.api.container.store.current_position())
        return auth.headers | {"X-Rentbook-Min-Position": position}

    def get(self, path: str, auth: Auth, **params: Any) -> Any:
        r = self.api.client.get(f"{API}{path}", params=params, headers=self.headers(auth))
        assert r.status_code == 200, r.text
        return r.json()


def open_shop(api: Api) -> Shop:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing = open_listing(api, owner, admin, title='Loft, the "blue" one')
    market = Market(api, owner, admin, renter, listing)
    paid = market.paid(30, 32)
    request_listing = open_listing(
        api, owner, admin, booking_mode="request", category="vehicle", booking_unit="day"
    )
    asking = Market(api, owner, admin, renter, request_listing)
    request = asking.placed(10, 12)
    assert request["status"] == "pending_owner_approval"
    return Shop(api, market, request_listing, paid, request)


def check_dashboard(shop: Shop) -> None:
    m = shop.market
    today = m.api.clock.now().date()
    body = shop.get("/me/dashboard", m.owner, **{"from": today.isoformat(), "to": m.day(40)})
    quote = shop.paid["quote"]
    total = {"amount": quote["total"], "currency": "EUR"}
    (revenue,) = body["revenue"]
    assert revenue["gross"] == total
    assert revenue["net"]["amount"] == quote["owner_payout"]
    assert revenue["fees"]["amount"] == total["amount"] - quote["owner_payout"]
    assert revenue["paid_out"]["amount"] == 0
    listings = {row["listing_id"]: row for row in body["listings"]}
    stay = listings[m.listing_id]
    assert stay["title"] == 'Loft, the "blue" one'
    assert stay["occupancy"] == {
        "per": "night",
        "units": 1,
        "booked": 2,
        "available": 40,
        "rate": 0.05,
    }
    assert stay["revenue"] == body["revenue"]
    assert listings[shop.request_listing]["occupancy"]["booked"] == 0
    assert listings[shop.request_listing]["revenue"] == []
    assert [b["id"] for b in body["upcoming"]["check_ins"]] == [shop.paid["id"]]
    assert body["upcoming"]["check_outs"][0]["id"] == shop.paid["id"]
    assert body["pending_requests"]["count"] == 1
    assert body["pending_requests"]["data"][0]["id"] == shop.request["id"]
    assert body["payouts"] == {
        "paid": [],
        "to_come": [{"amount": quote["owner_payout"], "currency": "EUR"}],
    }
    assert body["rating"] == {"count": 0, "average": 0.0}
    # The same money, as the ledger holds it.
    accounts = shop.get("/admin/ledger/accounts", m.admin, limit=100)["data"]
    balance = {a["account"]: a["balance"] for a in accounts}
    assert -balance[owner_payable(m.owner.id)] == revenue["net"]["amount"]  # type: ignore[arg-type]
    assert -balance[PLATFORM_FEES] == revenue["fees"]["amount"]


def check_analytics(shop: Shop) -> None:
    m = shop.market
    today = m.api.clock.now().date()
    r = m.post(f"/bookings/{shop.request['id']}/cancel", m.renter, {"reason": "Plans changed"})
    assert r.status_code == 200, r.text
    params = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    body = shop.get("/admin/analytics", m.admin, **params)
    totals = body["totals"]
    quote = shop.paid["quote"]
    assert totals["gmv"] == [{"amount": quote["total"], "currency": "EUR"}]
    fees = quote["total"] - quote["owner_payout"]
    assert totals["fees"] == [{"amount": fees, "currency": "EUR"}]
    assert totals["take_rate"] == [{"currency": "EUR", "rate": round(fees / quote["total"], 4)}]
    assert totals["bookings"] >= 2 and totals["cancellations"] >= 1
    assert totals["new_listings"] >= 2 and totals["new_users"] >= 3
    (bucket,) = body["buckets"]
    assert bucket["start"] == today.isoformat() and bucket["gmv"] == totals["gmv"]
    categories = {c["category"]: c for c in body["by_category"]}
    assert categories["stay"]["gmv"] == totals["gmv"]
    assert categories["vehicle"]["cancellations"] == 1 and categories["vehicle"]["gmv"] == []
    assert "new_users" not in categories["stay"] or categories["stay"]["new_users"] is None
    lisbon = {(c["city"], c["country"]): c for c in body["by_city"]}[("Lisbon", "PT")]
    assert lisbon["bookings"] == 2 and lisbon["gmv"] == totals["gmv"]
    monthly = shop.get("/admin/analytics", m.admin, granularity="month", **params)
    assert monthly["buckets"][0]["start"] == today.replace(day=1).isoformat()


def test_owner_dashboard_and_admin_analytics_on_the_embedded_default(api: Api) -> None:
    shop = open_shop(api)
    check_dashboard(shop)
    check_analytics(shop)


def test_owner_dashboard_and_admin_analytics_on_postgresql(pg_api: Api) -> None:
    shop = open_shop(pg_api)
    check_dashboard(shop)
    check_analytics(shop)


def test_owners_see_only_their_own_and_analytics_is_admin_only(api: Api) -> None:
    shop = open_shop(api)
    stranger = api.new_user()
    body = shop.get("/me/dashboard", stranger)
    assert body["listings"] == [] and body["revenue"] == []
    assert body["pending_requests"] == {"count": 0, "data": []}
    assert body["upcoming"] == {"check_ins": [], "check_outs": []}
    for auth in (stranger, shop.market.owner, shop.market.renter):
        r = api.client.get(f"{API}/admin/analytics", headers=auth.headers)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
    assert api.client.get(f"{API}/admin/analytics").status_code == 401
    assert api.client.get(f"{API}/me/dashboard").status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/me/dashboard", {"from": "2026-02-01", "to": "2026-01-01"}, "bad_range"),
        ("/me/dashboard", {"from": "2024-01-01", "to": "2026-01-01"}, "bad_range"),
        ("/me/dashboard", {"from": "yesterday"}, None),
        ("/admin/analytics", {"granularity": "year"}, None),
        ("/admin/analytics", {"from": "2020-01-01", "to": "2022-01-01"}, "bad_range"),
        ("/admin/analytics", {"from": "2026-01-01", "to": "2026-01-01"}, "bad_range"),
    ],
)
def test_bad_ranges_and_granularities_are_422(
    api: Api, path: str, params: dict[str, str], code: str | None
) -> None:
    admin = api.admin()
    r = api.client.get(f"{API}{path}", params=params, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if code:
        assert r.json()["code"] == code


def test_five_years_by_month_is_allowed(api: Api) -> None:
    admin = api.admin()
    params = {"from": "2022-01-01", "to": "2026-12-01", "granularity": "month"}
    r = api.client.get(f"{API}/admin/analytics", params=params, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["buckets"]) == 59


def test_hourly_occupancy_counts_open_slots_less_blocks(api: Api) -> None:
    """A padel court open 08:00-20:00 (12 slots a day), two units: a paid booking of two
    slots, a block of two hours. In January Lisbon keeps UTC."""
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    hours = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    listing_id = open_listing(
        api, owner, admin, category="court", opening_hours=hours, buffer_minutes=0, quantity=2
    )
    m = Market(api, owner, admin, renter, listing_id)
    slots = {
        "listing_id": listing_id,
        "start": "2027-01-13T10:00:00Z",
        "end": "2027-01-13T12:00:00Z",
    }
    r = api.client.post(f"{API}/bookings", json=slots, headers=renter.headers)
    assert r.status_code == 201, r.text
    paid = m.post(f"/dev/payments/{m.pay(r.json()['id'])}/succeed", renter)
    assert paid.status_code == 200, paid.text
    block = {"start": "2027-01-13T14:00:00Z", "end": "2027-01-13T16:00:00Z", "reason": "lessons"}
    assert m.post(f"/listings/{listing_id}/blocks", owner, block).status_code == 201
    r = api.client.get(
        f"{API}/me/dashboard",
        params={"from": "2027-01-13", "to": "2027-01-15"},
        headers=owner.headers
        | {"X-Rentbook-Min-Position": str(api.container.store.current_position())},
    )
    assert r.status_code == 200, r.text
    (court,) = r.json()["listings"]
    # 2 days x 12 open slots x 2 units, less the 2 blocked hours (both units).
    assert court["occupancy"] == {
        "per": "hour",
        "units": 2,
        "booked": 2,
        "available": 2 * 12 * 2 - 2 * 2,
        "rate": round(2 / 44, 4),
    }
