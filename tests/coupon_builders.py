"""Coupon test helpers over HTTP: create coupons, quote and book with them, read the lists."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from httpx import Response

from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, open_listing
from tests.polling import answered, eventually


def new_market(api: Api, **overrides: Any) -> Market:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    return Market(api, owner, admin, renter, open_listing(api, owner, admin, **overrides))


def unique_code(prefix: str = "SAVE") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_coupon(
    api: Api, auth: Auth, *, path: str = "/admin/coupons", expect: int = 201, **body: Any
) -> dict[str, Any]:
    payload = {"code": unique_code(), "kind": "percent", "percent_bp": 1000, **body}
    r = api.client.post(f"{API}{path}", json=payload, headers=auth.headers)
    assert r.status_code == expect, r.text
    coupon: dict[str, Any] = r.json()
    return coupon


def quote(m: Market, code: str | None, auth: Auth | None = None, nights: int = 2) -> Response:
    body: dict[str, Any] = {"start": m.day(30), "end": m.day(30 + nights)}
    if code is not None:
        body["coupon_code"] = code
    headers = (auth or m.renter).headers
    return m.api.client.post(f"{API}/listings/{m.listing_id}/quote", json=body, headers=headers)


def listed(api: Api, auth: Auth, path: str = "/admin/coupons") -> list[dict[str, Any]]:
    position = str(api.container.store.current_position())
    r = answered(  # a loaded machine may keep the views behind longer than one wait
        lambda: api.client.get(
            f"{API}{path}",
            params={"limit": 100},
            headers={**auth.headers, "X-Rentbook-Min-Position": position},
        ),
        f"{path} caught up",
    )
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    return data


def coupon_row(api: Api, admin: Auth, code: str) -> dict[str, Any]:
    (row,) = [c for c in listed(api, admin) if c["code"] == code.upper()]
    return row


def processed(api: Api) -> None:
    """The coupon process has read everything recorded so far (it also runs on its own)."""
    process = api.container.coupon_process
    assert process is not None

    def caught_up() -> bool:
        if process.position() >= api.container.store.current_position():
            return True
        process.catch_up()
        return False

    eventually(caught_up, "the coupon process caught up", interval=0)


def lines_add_up(q: dict[str, Any]) -> bool:
    return sum(li["amount"] for li in q["line_items"]) == q["total"]


def later(api: Api, days: int) -> str:
    return (api.clock.now() + timedelta(days=days)).isoformat()
