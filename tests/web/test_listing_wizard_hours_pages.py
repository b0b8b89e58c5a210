"""The listing wizard's opening hours over HTTP: per-weekday ranges (one or more a day) and
closed days reach the listing's spec; a bad range, overlapping ranges, a day left empty or
a week with no open day come back next to their field with everything typed kept."""

from __future__ import annotations

from typing import Any

from tests.web.helpers import API, Api, browser_login

COURT = {
    "title": "Padel court by the river",
    "description": "Floodlit.",
    "category": "court",
    "cd_court_sport": "padel",
    "cd_court_surface": "artificial_grass",
    "cd_court_indoor": "on",
    "city": "Lisbon",
    "address": "Rua Augusta 1",
    "price": "18",
    "currency": "EUR",
    "booking_unit": "hour",
    "booking_mode": "instant",
    "capacity": "4",
    "quantity": "1",
    "min_duration": "1",
    "cancellation_policy": "flexible",
    "oh_mon": "08:00-12:00, 14:00-22:00",
    "oh_tue": "8:00 - 22:00",
    "oh_wed": "08:00-22:00",
    "oh_thu": "08:00-22:00",
    "oh_fri": "08:00-24:00",
    "oh_sat": "10:00-14:00",
    "oh_sat_closed": "on",
    "oh_sun": "",
    "oh_sun_closed": "on",
}


def _post(api: Api, token: str, **changes: str) -> Any:
    data = {k: v for k, v in {**COURT, **changes, "csrf_token": token}.items() if v is not None}
    return api.client.post("/host/listings/new", data=data, follow_redirects=False)


def test_hourly_opening_hours_with_two_ranges_and_closed_days_reach_the_listing(
    api: Api,
) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    page = api.client.get("/host/listings/new")
    assert 'id="opening-hours"' in page.text and '<label for="f-oh_mon">Monday</label>' in page.text
    assert 'name="oh_sun_closed"' in page.text and 'value="08:00-22:00"' in page.text
    r = _post(api, token)
    assert r.status_code == 303, r.text
    listing_id = r.headers["location"].rsplit("/", 1)[-1]
    spec = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers).json()["listing"]
    assert spec["opening_hours"] == {
        "mon": [["08:00", "12:00"], ["14:00", "22:00"]],
        "tue": [["08:00", "22:00"]],
        "wed": [["08:00", "22:00"]],
        "thu": [["08:00", "22:00"]],
        "fri": [["08:00", "24:00"]],
    }


def test_each_bad_day_is_shown_next_to_its_field_and_what_was_typed_is_kept(api: Api) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    r = _post(api, token, oh_tue="9 to 5", oh_thu="", oh_sat_closed=None)
    assert r.status_code == 422
    assert 'id="e-oh_tue"' in r.text and "Write each range as 09:00-18:00" in r.text
    assert 'id="e-oh_thu"' in r.text and "or tick Closed" in r.text
    assert 'value="9 to 5"' in r.text and 'value="10:00-14:00"' in r.text
    assert 'aria-invalid="true"' in r.text and 'aria-describedby="oh-hint e-oh_tue"' in r.text
    assert 'name="oh_sun_closed" id="f-oh_sun_closed" checked' in r.text  # ticks kept too
    assert 'value="Padel court by the river"' in r.text


def test_the_domain_judges_the_ranges_overlaps_and_bad_times_land_on_their_day(api: Api) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    r = _post(api, token, oh_wed="08:00-12:00, 11:00-13:00")
    assert r.status_code == 422 and 'id="e-oh_wed"' in r.text
    assert "08:00-12:00 overlaps 11:00-13:00" in r.text
    r = _post(api, token, oh_fri="18:00-09:00")
    assert r.status_code == 422 and 'id="e-oh_fri"' in r.text and "must start before" in r.text
    r = _post(api, token, oh_mon="25:00-26:00")
    assert r.status_code == 422 and 'id="e-oh_mon"' in r.text


def test_a_week_without_an_open_day_is_refused(api: Api) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    closed = {f"oh_{d}_closed": "on" for d in ("mon", "tue", "wed", "thu", "fri")}
    r = _post(api, token, **closed)
    assert r.status_code == 422 and 'id="e-opening_hours"' in r.text
    assert "Open on at least one day." in r.text


def test_a_nightly_listing_ignores_the_hours_fields(api: Api) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    stay = {
        "category": "stay",
        "cd_stay_property_type": "apartment",
        "cd_stay_bedrooms": "1",
        "cd_stay_beds": "1",
        "cd_stay_bathrooms": "1",
        "booking_unit": "night",
        "oh_tue": "nonsense",
    }
    r = _post(api, token, **stay)
    assert r.status_code == 303, r.text
    listing_id = r.headers["location"].rsplit("/", 1)[-1]
    spec = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers).json()["listing"]
    assert spec["opening_hours"] == {}


def test_open_around_the_clock_every_day_is_the_specs_no_hours(api: Api) -> None:
    owner = api.new_user()
    token = browser_login(api.client, owner.email)
    every_day = {
        f"oh_{d}": "00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    r = _post(api, token, **every_day, oh_sat_closed=None, oh_sun_closed=None)
    assert r.status_code == 303, r.text
    listing_id = r.headers["location"].rsplit("/", 1)[-1]
    spec = api.client.get(f"{API}/listings/{listing_id}", headers=owner.headers).json()["listing"]
    assert spec["opening_hours"] == {}
    page = api.client.get(f"/host/listings/{listing_id}/edit")
    assert 'name="oh_sun" value="00:00-24:00"' in page.text
