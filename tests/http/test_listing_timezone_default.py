"""A new listing's time zone defaults from its coordinates."""

from __future__ import annotations

from tests.builders import listing_spec
from tests.http.conftest import API, Api


def test_a_listing_without_a_timezone_takes_the_zone_at_its_coordinates(api: Api) -> None:
    owner = api.new_user()
    spec = listing_spec()
    spec["location"] = {**spec["location"], "lat": 52.52, "lng": 13.405}  # Berlin
    del spec["location"]["timezone"]
    r = api.client.post(f"{API}/listings", json=spec, headers=owner.headers)
    assert r.status_code == 201, r.text
    assert r.json()["listing"]["location"]["timezone"] == "Europe/Berlin"


def test_a_listing_at_sea_without_a_timezone_is_refused(api: Api) -> None:
    owner = api.new_user()
    spec = listing_spec()
    spec["location"] = {**spec["location"], "lat": 0.0, "lng": -30.0}  # mid-Atlantic
    del spec["location"]["timezone"]
    r = api.client.post(f"{API}/listings", json=spec, headers=owner.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_listing"


def test_an_explicit_timezone_wins_over_the_coordinates(api: Api) -> None:
    owner = api.new_user()
    spec = listing_spec()  # Lisbon coordinates, zone given
    spec["location"] = {**spec["location"], "timezone": "Atlantic/Azores"}
    r = api.client.post(f"{API}/listings", json=spec, headers=owner.headers)
    assert r.status_code == 201
    assert r.json()["listing"]["location"]["timezone"] == "Atlantic/Azores"
