"""Listings over HTTP: create and validate, edit with If-Match, review, visibility.
Blocks, prices and the calendar: `test_listings_calendar_http.py`; quotes:
`test_listings_quotes_http.py`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import listing_spec
from tests.http.conftest import API, Api
from tests.http.listings_support import (
    MISSING,
    active_listing,
    code,
    create,
    day,
    quote,
)

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
