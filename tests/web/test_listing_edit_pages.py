"""Editing a listing through the wizard over HTTP (/host/listings/{id}/edit): pre-filled
from the listing, saved through the same use case as `PATCH /api/v1/listings/{id}`, with
its rules shown on the form: a lost update is 409, the unit and the currency are frozen
after the draft (422 next to the field); what the wizard does not show is kept."""

from __future__ import annotations

import re
from typing import Any

from tests.http.conftest import Auth
from tests.image_files import jpeg
from tests.web.helpers import API, Api, browser_login, csrf_of, publish_listing, wait_views


def _form(html: str) -> dict[str, str]:
    """The edit form's fields as a browser would send them (inputs, checked boxes, selects)."""
    values: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="file"' in tag:
            continue
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                values[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        if chosen:
            values[name] = chosen.group(1)
    description = re.search(
        r'<textarea id="f-description" name="description"[^>]*>(.*?)</textarea>', html, re.S
    )
    values["description"] = description.group(1) if description else ""
    return values


def _listing(api: Api, owner: Auth, listing_id: str) -> dict[str, Any]:
    r = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _edit(api: Api, listing_id: str, **changes: str) -> Any:
    page = api.client.get(f"/host/listings/{listing_id}/edit")
    assert page.status_code == 200, page.text
    data = _form(page.text) | changes
    return api.client.post(f"/host/listings/{listing_id}/edit", data=data, follow_redirects=False)


def test_the_edit_form_is_the_wizard_pre_filled_and_saving_keeps_what_it_does_not_show(
    api: Api,
) -> None:
    owner = api.new_user()
    pricing = {"base": {"amount": 10_000, "currency": "EUR"}, "weekly_discount_pct": 10}
    listing_id, position = publish_listing(api, owner, title="Old title", pricing=pricing)
    wait_views(api, position)
    browser_login(api.client, owner.email)
    assert (
        f'href="/host/listings/{listing_id}/edit"'
        in api.client.get(f"/host/listings/{listing_id}").text
    )
    page = api.client.get(f"/host/listings/{listing_id}/edit")
    form = _form(page.text)
    assert form["title"] == "Old title" and form["price"] == "100" and form["currency"] == "EUR"
    assert form["city"] == "Lisbon" and form["version"] and form["cd_stay_bedrooms"]
    assert 'id="edit-rules"' in page.text and "without a new review" in page.text
    r = _edit(api, listing_id, title="New title", price="120.50", amenities="wifi, sauna")
    assert r.status_code == 303 and r.headers["location"] == f"/host/listings/{listing_id}"
    seen = _listing(api, owner, listing_id)
    spec = seen["listing"]
    assert spec["title"] == "New title" and spec["pricing"]["base"]["amount"] == 12_050
    assert spec["pricing"]["weekly_discount_pct"] == 10  # not on the form: kept
    assert (
        spec["amenities"] == ["sauna", "wifi"] and spec["location"]["timezone"] == "Europe/Lisbon"
    )
    assert seen["status"] == "active"  # the rules: an edit needs no new review
    assert "New title" in api.client.get(f"/host/listings/{listing_id}").text


def test_an_hourly_listings_hours_are_pre_filled_and_edited(api: Api) -> None:
    owner = api.new_user()
    hours = {"mon": [["08:00", "12:00"], ["14:00", "20:00"]], "sat": [["10:00", "14:00"]]}
    listing_id, position = publish_listing(api, owner, category="court", opening_hours=hours)
    wait_views(api, position)
    browser_login(api.client, owner.email)
    form = _form(api.client.get(f"/host/listings/{listing_id}/edit").text)
    assert form["oh_mon"] == "08:00-12:00, 14:00-20:00" and form["oh_sat"] == "10:00-14:00"
    assert form["oh_tue_closed"] == "on" and "oh_mon_closed" not in form
    r = _edit(api, listing_id, oh_tue="09:00-17:00", oh_tue_closed="", oh_sat_closed="on")
    assert r.status_code == 303, r.text
    spec = _listing(api, owner, listing_id)["listing"]
    assert spec["opening_hours"] == {
        "mon": [["08:00", "12:00"], ["14:00", "20:00"]],
        "tue": [["09:00", "17:00"]],
    }
    r = _edit(api, listing_id, oh_mon="12:00-08:00")
    assert r.status_code == 422 and 'id="e-oh_mon"' in r.text and 'value="12:00-08:00"' in r.text


def test_a_lost_update_is_409_on_the_form_with_the_input_kept(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    browser_login(api.client, owner.email)
    stale = _form(api.client.get(f"/host/listings/{listing_id}/edit").text)
    r = api.client.patch(
        f"{API}/listings/{listing_id}", json={"title": "Changed elsewhere"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    r = api.client.post(
        f"/host/listings/{listing_id}/edit", data=stale | {"title": "Mine"}, follow_redirects=False
    )
    assert r.status_code == 409 and 'id="e-form"' in r.text
    assert "the listing changed; reload and retry" in r.text and 'value="Mine"' in r.text
    assert _listing(api, owner, listing_id)["listing"]["title"] == "Changed elsewhere"


def test_the_unit_and_currency_are_frozen_after_the_draft_and_shown_next_to_the_field(
    api: Api,
) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    browser_login(api.client, owner.email)
    r = _edit(api, listing_id, booking_unit="day")
    assert r.status_code == 422 and 'id="e-booking_unit"' in r.text
    assert "booking_unit cannot change after draft" in r.text
    r = _edit(api, listing_id, currency="USD", title="Kept title")
    assert r.status_code == 422 and 'id="e-currency"' in r.text and 'value="Kept title"' in r.text
    assert _listing(api, owner, listing_id)["listing"]["booking_unit"] == "night"


def test_a_draft_may_change_its_unit_and_others_cannot_edit(api: Api) -> None:
    owner = api.new_user()
    from tests.builders import listing_spec

    r = api.client.post(f"{API}/listings", json=listing_spec(), headers=owner.headers)
    listing_id = r.json()["id"]
    token = browser_login(api.client, owner.email)
    page = api.client.get(f"/host/listings/{listing_id}/edit")
    assert "cannot change" not in page.text  # a draft has no frozen field
    assert _edit(api, listing_id, booking_unit="day").status_code == 303
    assert _listing(api, owner, listing_id)["listing"]["booking_unit"] == "day"
    data = _form(api.client.get(f"/host/listings/{listing_id}/edit").text)
    no_csrf = {k: v for k, v in data.items() if k != "csrf_token"}
    assert api.client.post(f"/host/listings/{listing_id}/edit", data=no_csrf).status_code == 403
    assert csrf_of(page.text) == token
    stranger = api.register()
    browser_login(api.client, stranger["email"])
    assert api.client.get(f"/host/listings/{listing_id}/edit").status_code == 404
    r = api.client.post(
        f"/host/listings/{listing_id}/edit",
        data=data | {"csrf_token": csrf_of(api.client.get("/host").text)},
    )
    assert r.status_code == 404


def test_photos_sent_with_an_edit_are_added_after_the_listings_own(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(api, owner)
    wait_views(api, position)
    browser_login(api.client, owner.email)
    page = api.client.get(f"/host/listings/{listing_id}/edit")
    assert "Add photos (JPEG, PNG or WebP; 0 of 8 already)" in page.text
    files = [("photos", (f"{i}.jpg", jpeg(320, 240), "image/jpeg")) for i in range(2)]
    r = api.client.post(
        f"/host/listings/{listing_id}/edit",
        data=_form(page.text),
        files=files,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    first = _listing(api, owner, listing_id)
    assert len(first["listing"]["photos"]) == 2 and first["cover_photo_id"]
    page = api.client.get(f"/host/listings/{listing_id}/edit")
    r = api.client.post(
        f"/host/listings/{listing_id}/edit",
        data=_form(page.text),
        files=[("photos", ("c.jpg", jpeg(200, 200), "image/jpeg"))],
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    photos = _listing(api, owner, listing_id)["listing"]["photos"]
    assert photos[:2] == first["listing"]["photos"] and len(photos) == 3
