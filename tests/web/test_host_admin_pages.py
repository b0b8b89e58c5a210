"""Owner and admin pages over HTTP: the wizard keeps input and names each problem, creates
a draft with photos through the media use case, the calendar forms block dates, and only
admins reach /admin, whose queue approves through the API's use case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.image_files import jpeg
from tests.web.helpers import API, Api, browser_login, publish_listing, wait_views

WIZARD = {
    "title": "Flat with a view",
    "description": "Bright.",
    "category": "stay",
    "cd_stay_property_type": "apartment",
    "cd_stay_bedrooms": "1",
    "cd_stay_beds": "1",
    "cd_stay_bathrooms": "1",
    "city": "Lisbon",
    "address": "Rua Augusta 1",
    "price": "70.50",
    "currency": "EUR",
    "booking_unit": "night",
    "booking_mode": "instant",
    "capacity": "2",
    "quantity": "1",
    "min_duration": "1",
    "cancellation_policy": "flexible",
}


def _post_wizard(api: Api, token: str, **changes: str) -> Any:
    data = {**WIZARD, **changes, "csrf_token": token}
    files = [("photos", ("a.jpg", jpeg(320, 240), "image/jpeg"))]
    return api.client.post("/host/listings/new", data=data, files=files, follow_redirects=False)


def test_the_wizard_keeps_input_and_shows_each_problem_next_to_its_field(api: Api) -> None:
    user = api.register()
    token = browser_login(api.client, user["email"])
    r = _post_wizard(api, token, title="ab", price="lots", cd_stay_beds="0")
    assert r.status_code == 422
    assert 'value="lots"' in r.text and 'value="Rua Augusta 1"' in r.text
    for field in ("title", "price", "cd_stay_beds"):
        assert f'id="e-{field}"' in r.text, field


def test_the_wizard_creates_a_draft_with_its_photos_and_the_owner_submits_it(api: Api) -> None:
    user = api.register()
    token = browser_login(api.client, user["email"])
    r = _post_wizard(api, token)
    assert r.status_code == 303, r.text
    listing_id = r.headers["location"].rsplit("/", 1)[-1]
    page = api.client.get(r.headers["location"])
    assert "1 photo" in page.text and 'id="listing-status">Draft' in page.text
    r = api.client.post(f"/host/listings/{listing_id}/submit", data={"csrf_token": token})
    assert r.status_code == 200 and 'id="listing-status">Pending review' in r.text
    admin = api.admin()
    seen = api.client.get(f"{API}/listings/{listing_id}", headers=admin.headers).json()
    assert seen["status"] == "pending_review"
    assert seen["listing"]["pricing"]["base"] == {"amount": 7050, "currency": "EUR"}
    assert seen["listing"]["location"]["timezone"] == "Europe/Lisbon"
    assert len(seen["photos"]) == 1


def test_an_unverified_owner_is_told_to_verify_before_submitting(api: Api) -> None:
    user = api.register(verify=False)
    token = browser_login(api.client, user["email"])
    r = _post_wizard(api, token)
    listing_id = r.headers["location"].rsplit("/", 1)[-1]
    r = api.client.post(f"/host/listings/{listing_id}/submit", data={"csrf_token": token})
    assert r.status_code == 409
    assert 'role="alert"' in r.text and "Pending review" not in r.text


def test_the_calendar_form_blocks_dates_for_the_owner_only(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    first = api.clock.now().date() + timedelta(days=10)
    stranger = api.register()
    token = browser_login(api.client, stranger["email"])
    assert api.client.get(f"/host/listings/{listing_id}/calendar").status_code == 404
    token = browser_login(api.client, owner.email)
    form = {
        "csrf_token": token,
        "action": "block",
        "block_start": first.isoformat(),
        "block_end": (first + timedelta(days=2)).isoformat(),
        "block_reason": "paint",
    }
    r = api.client.post(f"/host/listings/{listing_id}/calendar", data=form)
    assert r.status_code == 200 and "Unblock" in r.text
    days = api.client.get(
        f"{API}/listings/{listing_id}/calendar",
        params={"from": first.isoformat(), "to": (first + timedelta(days=3)).isoformat()},
    ).json()
    assert [d["blocked"] for d in days] == [True, True, False]


def test_only_admins_reach_admin_pages_and_the_queue_approves(api: Api) -> None:
    owner = api.new_user()
    r = api.client.post(
        f"{API}/listings", json={**_spec(), "title": "Queue me"}, headers=owner.headers
    )
    listing_id = r.json()["id"]
    r = api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    position = r.headers["X-Rentbook-Position"]
    wait_views(api, position)
    renter = api.register()
    browser_login(api.client, renter["email"])
    assert api.client.get("/admin").status_code == 403
    admin = api.admin()
    token = browser_login(api.client, admin.email)
    page = api.client.get("/admin")
    assert "Queue me" in page.text
    r = api.client.post(
        f"/admin/listings/{listing_id}", data={"csrf_token": token, "decision": "reject"}
    )
    assert r.status_code == 422 and "Say why" in r.text  # rejecting needs a reason
    r = api.client.post(
        f"/admin/listings/{listing_id}", data={"csrf_token": token, "decision": "approve"}
    )
    assert r.status_code == 200 and "Queue me" not in r.text
    assert api.client.get(f"{API}/listings/{listing_id}").json()["status"] == "active"


def _spec() -> dict[str, Any]:
    from tests.builders import listing_spec

    return listing_spec()


def test_the_owner_approves_a_request_from_the_inbox(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner, booking_mode="request")
    wait_views(api, position)
    renter = api.new_user()
    start = api.clock.now().date() + timedelta(days=15)
    r = api.client.post(
        f"{API}/bookings",
        json={
            "listing_id": listing_id,
            "start": start.isoformat(),
            "end": (start + timedelta(days=2)).isoformat(),
        },
        headers=renter.headers,
    )
    assert r.status_code == 201 and r.json()["status"] == "pending_owner_approval", r.text
    booking_id = r.json()["id"]
    waited = api.client.get(  # the inbox reads the bookings view: wait for the request
        f"{API}/me/bookings",
        params={"role": "owner"},
        headers={**owner.headers, "X-Rentbook-Min-Position": r.headers["X-Rentbook-Position"]},
    )
    assert waited.status_code == 200, waited.text
    token = browser_login(api.client, owner.email)
    inbox = api.client.get("/host")
    assert f'action="/host/requests/{booking_id}"' in inbox.text
    r = api.client.post(
        f"/host/requests/{booking_id}", data={"csrf_token": token, "decision": "approve"}
    )
    assert r.status_code == 200 and f"/host/requests/{booking_id}" not in r.text
    seen = api.client.get(f"{API}/bookings/{booking_id}", headers=renter.headers).json()
    assert seen["status"] == "pending_payment"
