"""The wizard's and the edit form's pricing terms and booking rules over HTTP: discounts,
weekday multipliers, the deposit, the longest rental, advance notice, booking window and
(hourly) turnover buffer reach the listing's spec as the API shows it; the domain's refusals
come back next to their field with what was typed kept."""

from __future__ import annotations

from typing import Any

from tests.web.helpers import Api, browser_login, publish_listing, wait_views
from tests.web.test_listing_edit_pages import _edit, _form, _listing

STAY = {
    "title": "Flat by the river",
    "description": "Quiet.",
    "category": "stay",
    "cd_stay_property_type": "apartment",
    "cd_stay_bedrooms": "1",
    "cd_stay_beds": "1",
    "cd_stay_bathrooms": "1",
    "city": "Lisbon",
    "address": "Rua Augusta 1",
    "price": "80",
    "currency": "EUR",
    "booking_unit": "night",
    "booking_mode": "instant",
    "capacity": "2",
    "quantity": "1",
    "min_duration": "2",
    "cancellation_policy": "moderate",
}
TERMS = {
    "weekly_discount_pct": "10",
    "monthly_discount_pct": "25.5",
    "wm_fri": "1.2",
    "wm_sat": "1.5",
    "wm_tue": "",
    "deposit": "150.50",
    "max_duration": "30",
    "advance_notice_hours": "48",
    "booking_window_days": "180",
    "buffer_minutes": "30",  # hourly only: ignored for a nightly listing
}


def _post(api: Api, token: str, **changes: str) -> Any:
    data = {**STAY, **TERMS, **changes, "csrf_token": token}
    return api.client.post("/host/listings/new", data=data, follow_redirects=False)


def test_the_wizard_shows_the_terms_with_the_specs_defaults(api: Api) -> None:
    owner = api.new_user()
    browser_login(api.client, owner.email)
    page = api.client.get("/host/listings/new").text
    form = _form(page)
    for name in ("weekly_discount_pct", "monthly_discount_pct", "deposit", "max_duration"):
        assert f'<label for="f-{name}">' in page and name in form
    assert '<label for="f-wm_fri">Friday<span class="visually-hidden"> price multiplier' in page
    assert 'id="weekday-prices"' in page
    assert form["booking_window_days"] == "365" and form["advance_notice_hours"] == "0"
    assert form["buffer_minutes"] == "0" and form["deposit"] == "" and form["wm_mon"] == ""


def test_every_term_typed_in_the_wizard_reaches_the_listing(api: Api) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    r = _post(api, token)
    assert r.status_code == 303, r.text
    listing_id = r.headers["location"].rsplit("/", 1)[-1]
    spec = _listing(api, owner, listing_id)["listing"]
    pricing = spec["pricing"]
    assert pricing["weekly_discount_pct"] == 10 and pricing["monthly_discount_pct"] == 25.5
    assert pricing["weekday_multipliers"] == {"fri": 1.2, "sat": 1.5}
    assert spec["deposit"] == {"amount": 15_050, "currency": "EUR"}
    assert spec["max_duration"] == 30 and spec["advance_notice_hours"] == 48
    assert spec["booking_window_days"] == 180 and spec["buffer_minutes"] == 0


def test_refused_terms_are_shown_next_to_their_field_and_what_was_typed_is_kept(
    api: Api,
) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    r = _post(
        api,
        token,
        weekly_discount_pct="95",
        wm_fri="12",
        wm_sat="lots",
        booking_window_days="800",
        deposit="a lot",
    )
    assert r.status_code == 422
    for name in ("weekly_discount_pct", "wm_fri", "wm_sat", "booking_window_days"):
        assert f'id="e-{name}"' in r.text, name
    assert 'id="e-deposit"' in r.text and "Enter an amount" in r.text
    assert "multipliers must be in (0, 10]" in r.text  # the domain's own words, on Friday
    assert "Enter a multiplier" in r.text
    assert 'id="e-wm_mon"' not in r.text and 'id="e-monthly_discount_pct"' not in r.text
    form = _form(r.text)
    assert form["weekly_discount_pct"] == "95" and form["wm_fri"] == "12"
    assert form["wm_sat"] == "lots" and form["deposit"] == "a lot"
    assert 'aria-describedby="wm-hint e-wm_fri"' in r.text
    # The spec's whole-listing rule (judged once its fields are valid) lands on its field too.
    r = _post(api, token, max_duration="1")
    assert r.status_code == 422 and 'id="e-max_duration"' in r.text
    assert "The longest rental must be at least the shortest." in r.text
    assert _form(r.text)["max_duration"] == "1"


def test_an_hourly_listing_keeps_its_buffer_and_has_no_weekday_multipliers(api: Api) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    court = {
        "category": "court",
        "cd_court_sport": "padel",
        "cd_court_surface": "artificial_grass",
        "booking_unit": "hour",
        "min_duration": "1",
        "max_duration": "4",
        "wm_fri": "nonsense",  # not read for hourly listings
        **{f"oh_{d}": "08:00-22:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    }
    r = _post(api, token, **court)
    assert r.status_code == 303, r.text
    listing_id = r.headers["location"].rsplit("/", 1)[-1]
    spec = _listing(api, owner, listing_id)["listing"]
    assert spec["buffer_minutes"] == 30 and spec["max_duration"] == 4
    assert spec["pricing"]["weekday_multipliers"] == {}
    r = _post(api, token, **(court | {"buffer_minutes": "2000"}))
    assert r.status_code == 422 and 'id="e-buffer_minutes"' in r.text


def test_the_edit_form_shows_the_listings_terms_and_saves_changes_to_them(api: Api) -> None:
    owner = api.new_user()
    listing_id, position = publish_listing(
        api,
        owner,
        pricing={
            "base": {"amount": 10_000, "currency": "EUR"},
            "weekly_discount_pct": 5,
            "weekday_multipliers": {"sat": 1.25},
        },
        deposit={"amount": 20_000, "currency": "EUR"},
        max_duration=14,
        advance_notice_hours=24,
    )
    wait_views(api, position)
    browser_login(api.client, owner.email)
    form = _form(api.client.get(f"/host/listings/{listing_id}/edit").text)
    assert form["weekly_discount_pct"] == "5" and form["wm_sat"] == "1.25"
    assert form["deposit"] == "200" and form["max_duration"] == "14"
    assert form["advance_notice_hours"] == "24" and form["booking_window_days"] == "365"
    r = _edit(
        api,
        listing_id,
        monthly_discount_pct="20",
        wm_sat="",
        wm_sun="0.8",
        deposit="",
        max_duration="",
        booking_window_days="90",
    )
    assert r.status_code == 303, r.text
    spec = _listing(api, owner, listing_id)["listing"]
    assert spec["pricing"]["weekly_discount_pct"] == 5
    assert spec["pricing"]["monthly_discount_pct"] == 20
    assert spec["pricing"]["weekday_multipliers"] == {"sun": 0.8}
    assert spec["deposit"] is None and spec["max_duration"] is None
    assert spec["booking_window_days"] == 90 and spec["advance_notice_hours"] == 24
    r = _edit(api, listing_id, advance_notice_hours="-1", wm_sun="0")
    assert r.status_code == 422
    assert 'id="e-advance_notice_hours"' in r.text and 'id="e-wm_sun"' in r.text
    assert _form(r.text)["advance_notice_hours"] == "-1"
    assert _listing(api, owner, listing_id)["listing"]["advance_notice_hours"] == 24
