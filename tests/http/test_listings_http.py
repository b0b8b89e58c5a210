"""Listings over HTTP: create and validate, edit with If-Match, review, visibility, blocks,
per-date prices, the calendar (nights, hourly slots with opening hours, a DST day) and quotes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
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


# -- create ----------------------------------------------------------------------------------


def test_create_answers_201_draft_with_location_etag_and_position(api: Api) -> None:
    owner = api.new_user()
    r = api.client.post(f"{API}/listings", json=listing_spec(), headers=owner.headers)
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "draft" and body["version"] == 1
    assert body["owner_id"] == owner.id
    assert body["listing"]["title"] == "A fine stay"
    assert body["listing"]["amenities"] == ["kitchen", "wifi"]
    assert r.headers["Location"] == f"/api/v1/listings/{body['id']}"
    assert r.headers["ETag"] == '"1"'
    assert int(r.headers["X-Rentbook-Position"]) > 0
    me = api.client.get(f"{API}/users/me", headers=owner.headers).json()
    assert "owner" in me["roles"]


@pytest.mark.parametrize("category", ["stay", "vehicle", "equipment", "space", "court", "other"])
def test_every_category_with_its_builder_data_is_accepted(api: Api, category: str) -> None:
    r = create(api, api.new_user(), category=category)
    assert r.json()["listing"]["category"] == category


BAD_CATEGORY_DATA = {
    "stay": {"property_type": "castle", "bedrooms": 2, "beds": 3, "bathrooms": 1},
    "vehicle": {"make": "Renault", "model": "Zoe", "year": 1800, "seats": 5},
    "equipment": {"brand": "Makita", "condition": "broken"},
    "space": {"area_m2": 0, "kind": "office"},
    "court": {"sport": "padel", "surface": "clay"},
}


@pytest.mark.parametrize("category", sorted(BAD_CATEGORY_DATA))
def test_bad_category_data_is_422_per_category(api: Api, category: str) -> None:
    body = listing_spec(category=category, category_data=BAD_CATEGORY_DATA[category])
    r = api.client.post(f"{API}/listings", json=body, headers=api.new_user().headers)
    assert r.status_code == 422
    assert code(r) == "bad_category_data"
    assert r.json()["detail"].startswith(f"{category}:")


def test_unknown_category_data_fields_are_422(api: Api) -> None:
    data = {"brand": "Makita", "condition": "good", "colour": "teal"}
    body = listing_spec(category="equipment", category_data=data)
    r = api.client.post(f"{API}/listings", json=body, headers=api.new_user().headers)
    assert r.status_code == 422 and code(r) == "bad_category_data"


def _with_location(**changes: Any) -> dict[str, Any]:
    spec = listing_spec()
    spec["location"] = {**spec["location"], **changes}
    return spec


def _with_pricing(**changes: Any) -> dict[str, Any]:
    spec = listing_spec()
    spec["pricing"] = {**spec["pricing"], **changes}
    return spec


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {**listing_spec(), "category": "castle"}, "validation_failed", id="unknown-category"
        ),
        pytest.param(_with_location(timezone="Mars/Olympus"), "bad_timezone", id="bad-timezone"),
        pytest.param(
            _with_pricing(cleaning_fee={"amount": 500, "currency": "USD"}),
            "validation_failed",
            id="cleaning-fee-currency",
        ),
        pytest.param(
            listing_spec(deposit={"amount": 500, "currency": "GBP"}),
            "validation_failed",
            id="deposit-currency",
        ),
        pytest.param(
            listing_spec(opening_hours={"mon": [["08:00", "20:00"]]}),
            "validation_failed",
            id="opening-hours-on-nights",
        ),
        pytest.param(listing_spec(buffer_minutes=30), "validation_failed", id="buffer-on-nights"),
        pytest.param(
            _with_pricing(
                hourly_windows=[
                    {"days": ["mon"], "start": "18:00", "end": "22:00", "multiplier": 2}
                ]
            ),
            "validation_failed",
            id="hourly-windows-on-nights",
        ),
        pytest.param(listing_spec(colour="red"), "validation_failed", id="extra-field"),
        pytest.param(_with_location(floor=3), "validation_failed", id="extra-field-in-location"),
        pytest.param(listing_spec(quantity=0), "validation_failed", id="zero-quantity"),
        pytest.param(
            listing_spec(min_duration=5, max_duration=2), "validation_failed", id="max-below-min"
        ),
        pytest.param(
            listing_spec(category="court", opening_hours={"mon": [["20:00", "08:00"]]}),
            "bad_opening_hours",
            id="backwards-opening-hours",
        ),
    ],
)
def test_bad_listing_bodies_are_422(api: Api, body: dict[str, Any], expected: str) -> None:
    r = api.client.post(f"{API}/listings", json=body, headers=api.new_user().headers)
    assert r.status_code == 422, r.text
    assert code(r) == expected


def test_currency_mismatch_names_the_rule(api: Api) -> None:
    body = _with_pricing(cleaning_fee={"amount": 500, "currency": "USD"})
    r = api.client.post(f"{API}/listings", json=body, headers=api.new_user().headers)
    assert "currency" in r.text


def test_create_without_a_session_is_401_and_records_nothing(api: Api) -> None:
    r = api.client.post(f"{API}/listings", json=listing_spec())
    assert r.status_code == 401 and code(r) == "not_authenticated"
    assert r.headers["WWW-Authenticate"] == "Bearer"


# -- edit ------------------------------------------------------------------------------------


def test_patch_with_the_current_etag_updates_and_moves_the_etag(api: Api) -> None:
    owner = api.new_user()
    listing_id = create(api, owner).json()["id"]
    r = api.client.patch(
        f"{API}/listings/{listing_id}",
        json={"title": "Renamed flat", "capacity": 6},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["listing"]["title"] == "Renamed flat"
    assert r.json()["listing"]["capacity"] == 6
    assert r.headers["ETag"] == '"2"'
    assert int(r.headers["X-Rentbook-Position"]) > 0
    again = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers)
    assert again.json()["listing"]["title"] == "Renamed flat" and again.headers["ETag"] == '"2"'


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(api: Api) -> None:
    owner = api.new_user()
    listing_id = create(api, owner).json()["id"]
    url = f"{API}/listings/{listing_id}"
    first = api.client.patch(
        url, json={"title": "First"}, headers={**owner.headers, "If-Match": '"1"'}
    )
    assert first.status_code == 200
    r = api.client.patch(
        url, json={"title": "Second"}, headers={**owner.headers, "If-Match": '"1"'}
    )
    assert r.status_code == 412
    assert r.headers["ETag"] == '"2"'
    assert api.client.get(url, headers=owner.headers).json()["listing"]["title"] == "First"


def test_patch_that_breaks_the_spec_is_422(api: Api) -> None:
    owner = api.new_user()
    listing_id = create(api, owner).json()["id"]
    r = api.client.patch(
        f"{API}/listings/{listing_id}", json={"buffer_minutes": 30}, headers=owner.headers
    )
    assert r.status_code == 422


def test_strangers_cannot_patch_a_draft_404_nor_an_active_listing_403(api: Api) -> None:
    owner, admin, stranger = api.new_user(), api.admin(), api.new_user()
    draft = create(api, owner).json()["id"]
    r = api.client.patch(
        f"{API}/listings/{draft}", json={"title": "Mine"}, headers=stranger.headers
    )
    assert r.status_code == 404 and code(r) == "listing_not_found"
    active = active_listing(api, owner, admin)
    r = api.client.patch(
        f"{API}/listings/{active}", json={"title": "Mine"}, headers=stranger.headers
    )
    assert r.status_code == 403 and code(r) == "not_owner"
    assert api.client.get(f"{API}/listings/{active}").json()["listing"]["title"] == "A fine stay"


# -- review and status -----------------------------------------------------------------------


def test_submit_then_admin_approval_makes_the_listing_active(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = create(api, owner).json()["id"]
    r = api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "pending_review"
    assert int(r.headers["X-Rentbook-Position"]) > 0
    r = api.client.post(f"{API}/admin/listings/{listing_id}/approve", headers=admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert api.client.get(f"{API}/listings/{listing_id}").json()["status"] == "active"


def test_only_admins_approve_or_reject(api: Api) -> None:
    owner = api.new_user()
    listing_id = create(api, owner).json()["id"]
    api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    r = api.client.post(f"{API}/admin/listings/{listing_id}/approve", headers=owner.headers)
    assert r.status_code == 403
    r = api.client.post(
        f"{API}/admin/listings/{listing_id}/reject", json={"reason": "no"}, headers=owner.headers
    )
    assert r.status_code == 403
    assert (
        api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers).json()["status"]
        == "pending_review"
    )


def test_rejection_carries_the_reason_and_the_owner_can_resubmit(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = create(api, owner).json()["id"]
    api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    r = api.client.post(
        f"{API}/admin/listings/{listing_id}/reject",
        json={"reason": "Photos missing"},
        headers=admin.headers,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "rejected" and r.json()["status_reason"] == "Photos missing"
    r = api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "pending_review"


def test_approving_a_draft_is_409(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = create(api, owner).json()["id"]
    r = api.client.post(f"{API}/admin/listings/{listing_id}/approve", headers=admin.headers)
    assert r.status_code == 409 and code(r) == "invalid_listing_transition"


def test_deactivate_hides_the_listing_and_activate_reopens_it(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = api.client.post(f"{API}/listings/{listing_id}/deactivate", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "inactive"
    assert api.client.get(f"{API}/listings/{listing_id}").status_code == 404
    renter = api.new_user()
    q = quote(api, listing_id, renter, start=day(api, 30), end=day(api, 32))
    assert q.status_code == 404
    r = api.client.post(f"{API}/listings/{listing_id}/activate", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert api.client.get(f"{API}/listings/{listing_id}").status_code == 200
    r = api.client.post(f"{API}/listings/{listing_id}/activate", headers=owner.headers)
    assert r.status_code == 409


def test_strangers_cannot_deactivate_someone_elses_listing(api: Api) -> None:
    owner, admin, stranger = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    r = api.client.post(f"{API}/listings/{listing_id}/deactivate", headers=stranger.headers)
    assert r.status_code == 403
    assert api.client.get(f"{API}/listings/{listing_id}").json()["status"] == "active"


# -- reading ---------------------------------------------------------------------------------


def test_a_draft_is_404_for_others_and_visible_to_its_owner_and_admins(api: Api) -> None:
    owner, admin, stranger = api.new_user(), api.admin(), api.new_user()
    listing_id = create(api, owner).json()["id"]
    url = f"{API}/listings/{listing_id}"
    assert api.client.get(url).status_code == 404
    r = api.client.get(url, headers=stranger.headers)
    assert r.status_code == 404 and code(r) == "listing_not_found"
    assert api.client.get(url, headers=owner.headers).json()["status"] == "draft"
    assert api.client.get(url, headers=admin.headers).status_code == 200
    assert api.client.get(f"{API}/listings/{MISSING}").status_code == 404


def test_an_active_listing_is_public_with_its_etag(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = api.client.get(f"{API}/listings/{listing_id}")
    assert r.status_code == 200
    assert r.json()["id"] == listing_id and r.json()["status"] == "active"
    assert r.headers["ETag"] == '"3"'


def test_my_listings_reads_my_writes_newest_first_and_only_mine(api: Api) -> None:
    owner, other = api.new_user(), api.new_user()
    create(api, other)
    first = create(api, owner, title="First flat").json()["id"]
    api.clock.advance(minutes=1)  # the fake clock stands still; newest is by creation time
    second = create(api, owner, title="Second flat")
    position = second.headers["X-Rentbook-Position"]
    r = api.client.get(
        f"{API}/me/listings",
        headers={**owner.headers, "X-Rentbook-Min-Position": position},
    )
    assert r.status_code == 200
    rows = r.json()["data"]
    assert [row["id"] for row in rows] == [second.json()["id"], first]
    assert rows[0]["title"] == "Second flat" and rows[0]["status"] == "draft"
    page = api.client.get(f"{API}/me/listings", params={"limit": 1}, headers=owner.headers).json()
    assert len(page["data"]) == 1 and page["next_cursor"]
    rest = api.client.get(
        f"{API}/me/listings",
        params={"limit": 1, "cursor": page["next_cursor"]},
        headers=owner.headers,
    ).json()
    assert [row["id"] for row in rest["data"]] == [first] and rest["next_cursor"] is None
    assert api.client.get(f"{API}/me/listings").status_code == 401


# -- blocks ----------------------------------------------------------------------------------


def test_a_block_takes_every_unit_and_removing_it_frees_them(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin, quantity=2)
    start, end = day(api, 20), day(api, 22)
    r = api.client.post(
        f"{API}/listings/{listing_id}/blocks",
        json={"start": start, "end": end, "reason": "painting"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    block = r.json()
    assert block["listing_id"] == listing_id and block["reason"] == "painting"
    position = r.headers["X-Rentbook-Position"]
    days = calendar(
        api, listing_id, day(api, 19), day(api, 23), **{"X-Rentbook-Min-Position": position}
    )
    assert [d["available_units"] for d in days] == [2, 0, 0, 2]
    assert [d["blocked"] for d in days] == [False, True, True, False]
    renter = api.new_user()
    q = quote(api, listing_id, renter, start=start, end=end)
    assert q.status_code == 422 and code(q) == "unavailable"

    r = api.client.delete(
        f"{API}/listings/{listing_id}/blocks/{block['id']}", headers=owner.headers
    )
    assert r.status_code == 204 and r.content == b""
    position = r.headers["X-Rentbook-Position"]
    days = calendar(
        api, listing_id, day(api, 19), day(api, 23), **{"X-Rentbook-Min-Position": position}
    )
    assert [d["available_units"] for d in days] == [2, 2, 2, 2]


def test_a_block_over_a_booking_is_409(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    booked = api.client.post(
        f"{API}/bookings",
        json={"listing_id": listing_id, "start": day(api, 10), "end": day(api, 12)},
        headers=renter.headers,
    )
    assert booked.status_code == 201, booked.text
    r = api.client.post(
        f"{API}/listings/{listing_id}/blocks",
        json={"start": day(api, 11), "end": day(api, 14)},
        headers=owner.headers,
    )
    assert r.status_code == 409 and code(r) == "block_overlaps_bookings"


def test_removing_an_unknown_block_is_404(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = api.client.delete(f"{API}/listings/{listing_id}/blocks/{MISSING}", headers=owner.headers)
    assert r.status_code == 404 and code(r) == "block_not_found"


def test_only_the_owner_blocks_dates(api: Api) -> None:
    owner, admin, stranger = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    r = api.client.post(
        f"{API}/listings/{listing_id}/blocks",
        json={"start": day(api, 20), "end": day(api, 22)},
        headers=stranger.headers,
    )
    assert r.status_code == 403


def test_a_block_with_a_bad_date_is_422(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = api.client.post(
        f"{API}/listings/{listing_id}/blocks",
        json={"start": "next monday", "end": day(api, 22)},
        headers=owner.headers,
    )
    assert r.status_code == 422 and code(r) == "bad_period"


# -- per-date prices -------------------------------------------------------------------------


def test_a_price_override_changes_quote_and_calendar_until_cleared(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    first, second = day(api, 40), day(api, 41)
    r = api.client.put(
        f"{API}/listings/{listing_id}/prices/{first}",
        json={"amount": 25_000},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["price_overrides"] == {first: 25_000}
    position = r.headers["X-Rentbook-Position"]
    days = calendar(api, listing_id, first, day(api, 42), **{"X-Rentbook-Min-Position": position})
    assert [d["price"] for d in days] == [
        {"amount": 25_000, "currency": "EUR"},
        {"amount": 10_000, "currency": "EUR"},
    ]
    q = quote(api, listing_id, renter, start=first, end=day(api, 42)).json()["quote"]
    assert q["unit_prices"] == [[first, 25_000], [second, 10_000]]
    assert q["base_total"] == 35_000

    r = api.client.delete(f"{API}/listings/{listing_id}/prices/{first}", headers=owner.headers)
    assert r.status_code == 200 and r.json()["price_overrides"] == {}
    position = r.headers["X-Rentbook-Position"]
    days = calendar(api, listing_id, first, day(api, 42), **{"X-Rentbook-Min-Position": position})
    assert [d["price"]["amount"] for d in days] == [10_000, 10_000]
    q = quote(api, listing_id, renter, start=first, end=day(api, 42)).json()["quote"]
    assert q["base_total"] == 20_000


def test_price_overrides_are_the_owners_and_never_negative(api: Api) -> None:
    owner, admin, stranger = api.new_user(), api.admin(), api.new_user()
    listing_id = active_listing(api, owner, admin)
    url = f"{API}/listings/{listing_id}/prices/{day(api, 40)}"
    assert api.client.put(url, json={"amount": 1}, headers=stranger.headers).status_code == 403
    r = api.client.put(url, json={"amount": -1}, headers=owner.headers)
    assert r.status_code == 422 and code(r) == "validation_failed"
    r = api.client.put(
        f"{API}/listings/{listing_id}/prices/2027-02-30", json={"amount": 1}, headers=owner.headers
    )
    assert r.status_code == 422


# -- calendar --------------------------------------------------------------------------------


def test_night_calendar_lists_each_date_with_free_units_and_price(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    spec = listing_spec(quantity=3)
    spec["pricing"]["weekday_multipliers"] = {"sat": 1.5}
    r = api.client.post(f"{API}/listings", json=spec, headers=owner.headers)
    listing_id = r.json()["id"]
    api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    r = api.client.post(f"{API}/admin/listings/{listing_id}/approve", headers=admin.headers)
    position = r.headers["X-Rentbook-Position"]
    days = calendar(
        api, listing_id, "2027-01-01", "2027-01-08", **{"X-Rentbook-Min-Position": position}
    )
    assert [d["date"] for d in days] == [f"2027-01-0{n}" for n in range(1, 8)]
    assert all(d["available_units"] == 3 and not d["blocked"] for d in days)
    saturday = next(d for d in days if date.fromisoformat(d["date"]).weekday() == 5)
    assert saturday["price"] == {"amount": 15_000, "currency": "EUR"}
    assert {d["price"]["amount"] for d in days if d is not saturday} == {10_000}


def test_calendar_of_a_draft_is_404_for_the_public(api: Api) -> None:
    owner = api.new_user()
    listing_id = create(api, owner).json()["id"]
    r = api.client.get(
        f"{API}/listings/{listing_id}/calendar", params={"from": "2027-01-01", "to": "2027-01-03"}
    )
    assert r.status_code == 404


def test_calendar_rejects_a_backwards_range(api: Api) -> None:
    owner, admin = api.new_user(), api.admin()
    listing_id = active_listing(api, owner, admin)
    r = api.client.get(
        f"{API}/listings/{listing_id}/calendar",
        params={"from": "2027-01-05", "to": "2027-01-01"},
        headers={"X-Rentbook-Min-Position": "1"},
    )
    assert r.status_code == 422 and code(r) == "bad_range"


def _court(api: Api) -> str:
    owner, admin = api.new_user(), api.admin()
    return active_listing(
        api, owner, admin, category="court", opening_hours=COURT_HOURS, capacity=4
    )


def test_hourly_calendar_shows_closed_slots_with_no_free_units(api: Api) -> None:
    listing_id = _court(api)
    position = str(api.container.store.current_position())
    slots = calendar(
        api, listing_id, "2027-01-13", "2027-01-14", **{"X-Rentbook-Min-Position": position}
    )
    assert len(slots) == 24
    assert slots[0]["start"] == "2027-01-13T00:00:00Z"  # Lisbon is on UTC in winter
    open_slots = [s for s in slots if s["available_units"] == 1]
    assert [s["start"][11:16] for s in open_slots] == [f"{h:02d}:00" for h in range(8, 22)]
    closed = [s for s in slots if s["available_units"] == 0]
    assert len(closed) == 10 and all(s["held"] == s["reserved"] == 0 for s in closed)
    assert all(s["price"] == {"amount": 10_000, "currency": "EUR"} for s in slots)


def test_hourly_calendar_on_the_spring_forward_day_has_23_slots(api: Api) -> None:
    listing_id = _court(api)
    position = str(api.container.store.current_position())
    slots = calendar(
        api, listing_id, "2026-03-29", "2026-03-30", **{"X-Rentbook-Min-Position": position}
    )
    assert len(slots) == 23
    starts = [s["start"] for s in slots]
    assert starts[:3] == ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"]
    # 01:00 UTC is 02:00 WEST: local 01:00 is skipped. Open 08:00-22:00 local = 07:00-21:00 UTC.
    opened = [s["start"][11:13] for s in slots if s["available_units"] == 1]
    assert opened == [f"{h:02d}" for h in range(7, 21)]


def test_hourly_calendar_on_the_fall_back_day_has_25_slots(api: Api) -> None:
    listing_id = _court(api)
    position = str(api.container.store.current_position())
    slots = calendar(
        api, listing_id, "2026-10-25", "2026-10-26", **{"X-Rentbook-Min-Position": position}
    )
    assert len(slots) == 25
    assert slots[0]["start"] == "2026-10-24T23:00:00Z"


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
