"""Helpers of the listings HTTP tests: create, approve, read the calendar, quote."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from httpx import Response

from tests.builders import listing_spec
from tests.http.conftest import API, Api, Auth

MISSING = "00000000-0000-4000-8000-000000000000"
COURT_HOURS = {
    day: [["08:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def code(r: Response) -> str:
    assert r.headers["content-type"] == "application/problem+json", r.text
    return str(r.json()["code"])


def create(api: Api, owner: Auth, **overrides: Any) -> Response:
    r = api.client.post(f"{API}/listings", json=listing_spec(**overrides), headers=owner.headers)
    assert r.status_code == 201, r.text
    return r


def active_listing(api: Api, owner: Auth, admin: Auth, **overrides: Any) -> str:
    listing_id = str(create(api, owner, **overrides).json()["id"])
    r = api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    assert r.status_code == 200, r.text
    r = api.client.post(f"{API}/admin/listings/{listing_id}/approve", headers=admin.headers)
    assert r.status_code == 200, r.text
    return listing_id


def day(api: Api, offset: int) -> str:
    return (api.clock.now().date() + timedelta(days=offset)).isoformat()


def calendar(api: Api, listing_id: str, frm: str, to: str, **headers: str) -> list[dict[str, Any]]:
    r = api.client.get(
        f"{API}/listings/{listing_id}/calendar", params={"from": frm, "to": to}, headers=headers
    )
    assert r.status_code == 200, r.text
    days: list[dict[str, Any]] = r.json()
    return days


def quote(api: Api, listing_id: str, auth: Auth | None = None, **body: Any) -> Response:
    headers = auth.headers if auth else {}
    return api.client.post(f"{API}/listings/{listing_id}/quote", json=body, headers=headers)


def _court(api: Api) -> str:
    owner, admin = api.new_user(), api.admin()
    return active_listing(
        api, owner, admin, category="court", opening_hours=COURT_HOURS, capacity=4
    )
