"""Search over HTTP on the embedded default (and once on PostgreSQL): words and typos,
filters, geo with distances, facets, pages, dated searches re-checked against the calendar
(nightly and hourly), problems for bad parameters, and browser search keys."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import Response

from application.context import Actor, command_context
from application.demo import seed_demo
from tests.builders import listing_spec
from tests.http.conftest import API, Api
from tests.polling import eventually

SEARCH = f"{API}/search/listings"
ADMIN = Actor(uuid.UUID("00000000-0000-4000-8000-0000000000ad"), "admin")

# Lisbon (0 km), Porto (~274 km), Madrid (~503 km)
PLACES = {
    "lisbon": ("Lisbon", "PT", 38.7223, -9.1393, "Europe/Lisbon"),
    "porto": ("Porto", "PT", 41.1579, -8.6291, "Europe/Lisbon"),
    "madrid": ("Madrid", "ES", 40.4168, -3.7038, "Europe/Madrid"),
}


def active_listing(api: Api, owner: Actor, place: str = "lisbon", **spec: Any) -> str:
    city, country, lat, lng, tz = PLACES[place]
    location = {"address": "1 Main St", "city": city, "country": country, "lat": lat, "lng": lng}
    body = listing_spec(location={**location, "timezone": tz}, booking_window_days=730, **spec)
    at = api.clock.now()
    with command_context(owner):
        listing_id, _ = api.container.listings.create(owner, body, at)
        api.container.listings.submit(owner, listing_id, at)
    with command_context(ADMIN):
        api.container.listings.approve(ADMIN, listing_id, at)
    return str(listing_id)


def search(api: Api, **params: Any) -> dict[str, Any]:
    """A search that reads its writes: the views and the index hold every event so far."""
    position = str(api.container.store.current_position())
    r = api.client.get(SEARCH, params=params, headers={"X-Rentbook-Min-Position": position})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [hit["id"] for hit in body["data"]]


def wait_indexed(api: Api, expected: set[str], timeout: float = 15.0, **params: Any) -> None:
    """Polls until an undated search returns every expected id (the index syncs after the
    views, asynchronously)."""

    def missing() -> set[str]:
        return expected - set(ids(search(api, limit=100, **params)))

    eventually(lambda: not missing(), "every id indexed", timeout=timeout, seen=missing)


@pytest.fixture
def owner(api: Api) -> Actor:
    return Actor(uuid.UUID(api.new_user().id), "user")


@pytest.fixture
def catalog(api: Api, owner: Actor) -> dict[str, str]:
    made = {
        "loft": active_listing(
            api,
            owner,
            title="Sunny loft near the river",
            amenities=["wifi", "kitchen"],
            pricing={"base": {"amount": 9_500, "currency": "EUR"}},
            capacity=2,
        ),
        "house": active_listing(
            api,
            owner,
            "porto",
            title="Family house with garden",
            amenities=["wifi", "parking"],
            pricing={"base": {"amount": 21_000, "currency": "EUR"}},
            capacity=8,
            booking_mode="request",
        ),
        "van": active_listing(
            api,
            owner,
            "madrid",
            category="vehicle",
            booking_unit="day",
            title="Camper van for the coast",
            amenities=["gps"],
            pricing={"base": {"amount": 7_000, "currency": "EUR"}},
        ),
        "court": active_listing(
            api,
            owner,
            category="court",
            title="Indoor padel court",
            amenities=["showers"],
            pricing={"base": {"amount": 2_400, "currency": "EUR"}},
            opening_hours={d: [["08:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
            | {d: [["08:00", "22:00"]] for d in ("sat", "sun")},
        ),
    }
    wait_indexed(api, set(made.values()))
    return made


def test_words_with_a_typo_find_the_listing(api: Api, catalog: dict[str, str]) -> None:
    assert ids(search(api, q="garden")) == [catalog["house"]]
    assert ids(search(api, q="gardne")) == [catalog["house"]]  # one typo in 6 letters
    assert ids(search(api, q="riv")) == [catalog["loft"]]  # the last word as a prefix
    hit = search(api, q="sunny")["data"][0]
    assert hit["id"] == catalog["loft"]
    assert hit["price"] == {"amount": 9_500, "currency": "EUR"}
    assert hit["_geo"] == {"lat": 38.7223, "lng": -9.1393}
    assert hit["booking_unit"] == "night" and hit["capacity"] == 2
    assert hit["distance_km"] is None
    assert "blocked_nights" not in hit


def test_filters_combine(api: Api, catalog: dict[str, str]) -> None:
    assert ids(search(api, category="vehicle")) == [catalog["van"]]
    assert set(ids(search(api, amenities="wifi,parking"))) == {catalog["house"]}
    assert set(ids(search(api, amenities=["wifi"], guests=4))) == {catalog["house"]}
    cheap = set(ids(search(api, min_price=5_000, max_price=9_500, currency="eur")))
    assert cheap == {catalog["loft"], catalog["van"]}
    assert ids(search(api, instant_book="false")) == [catalog["house"]]
    prices = [h["price"]["amount"] for h in search(api, sort="price_desc")["data"]]
    assert prices == sorted(prices, reverse=True)


def test_geo_radius_reports_distances_and_sorts_by_them(api: Api, catalog: dict[str, str]) -> None:
    lisbon = {"lat": 38.7223, "lng": -9.1393}
    body = search(api, **lisbon, radius_km=300, sort="distance")
    assert ids(body)[-1] == catalog["house"]
    assert set(ids(body)) == {catalog["loft"], catalog["court"], catalog["house"]}
    distances = [h["distance_km"] for h in body["data"]]
    assert distances[0] == 0.0 and distances == sorted(distances)
    assert 270 < distances[-1] < 280
    boxed = search(api, bbox="-10,38,-8,39.5")  # west,south,east,north around Lisbon
    assert set(ids(boxed)) == {catalog["loft"], catalog["court"]}


def test_facets_count_categories_amenities_and_price_range(
    api: Api, catalog: dict[str, str]
) -> None:
    facets = search(api)["facets"]
    assert facets["category"] == {"stay": 2, "vehicle": 1, "court": 1}
    assert facets["amenities"]["wifi"] == 2
    assert facets["price_stats"] == {"min": 2_400, "max": 21_000}


def test_pages_follow_next_offset_without_gaps_or_repeats(
    api: Api, catalog: dict[str, str]
) -> None:
    everything = ids(search(api, sort="price_asc", limit=100))
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        body = search(api, sort="price_asc", limit=3, offset=offset)
        assert body["total_estimate"] == 4
        seen += ids(body)
        offset = body["next_offset"]
    assert seen == everything


def test_dated_search_leaves_out_a_listing_booked_for_those_nights(
    api: Api, catalog: dict[str, str]
) -> None:
    renter = api.new_user()
    start = api.clock.now().date() + timedelta(days=30)
    period = {"start": start.isoformat(), "end": (start + timedelta(days=2)).isoformat()}
    assert set(ids(search(api, **period))) == {catalog["loft"], catalog["house"], catalog["van"]}
    r = api.client.post(
        f"{API}/bookings",
        json={"listing_id": catalog["loft"], **period, "quantity": 1, "guests": 1},
        headers=renter.headers,
    )
    assert r.status_code == 201, r.text
    position = r.headers["X-Rentbook-Position"]
    # The views answer at once with the header; the index catches up a moment later, and the
    # answer must be right either way.
    answer = api.client.get(SEARCH, params=period, headers={"X-Rentbook-Min-Position": position})
    assert answer.status_code == 200
    assert catalog["loft"] not in ids(answer.json())
    after = start + timedelta(days=2)
    other = {"start": after.isoformat(), "end": (after + timedelta(days=2)).isoformat()}
    assert catalog["loft"] in ids(search(api, **other))  # checkout night is free again
    time.sleep(1.5)  # the syncer has run: the index itself leaves it out now
    assert catalog["loft"] not in ids(search(api, **period))


def test_dated_search_asks_for_enough_units(api: Api, owner: Actor) -> None:
    drills = active_listing(api, owner, category="equipment", booking_unit="day", quantity=3)
    wait_indexed(api, {drills})
    start = api.clock.now().date() + timedelta(days=10)
    period = {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}
    renter = api.new_user()
    r = api.client.post(
        f"{API}/bookings",
        json={"listing_id": drills, **period, "quantity": 2, "guests": 1},
        headers=renter.headers,
    )
    assert r.status_code == 201, r.text
    wait = {"X-Rentbook-Min-Position": r.headers["X-Rentbook-Position"]}
    one = api.client.get(SEARCH, params={**period, "quantity": 1}, headers=wait).json()
    two = api.client.get(SEARCH, params={**period, "quantity": 2}, headers=wait).json()
    assert ids(one) == [drills] and ids(two) == []


def test_hourly_search_checks_every_slot(api: Api, catalog: dict[str, str]) -> None:
    day = api.clock.now().date() + timedelta(days=7)
    at = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)  # Lisbon: UTC+0 or +1

    def slots(hour: int, hours: int) -> dict[str, str]:
        begin = at.replace(hour=hour)
        return {"start": begin.isoformat(), "end": (begin + timedelta(hours=hours)).isoformat()}

    assert ids(search(api, **slots(10, 2))) == [catalog["court"]]  # hourly listings only
    assert ids(search(api, **slots(21, 3))) == []  # closes at 22:00 local
    renter = api.new_user()
    r = api.client.post(
        f"{API}/bookings",
        json={"listing_id": catalog["court"], **slots(11, 1), "quantity": 1, "guests": 2},
        headers=renter.headers,
    )
    assert r.status_code == 201, r.text
    wait = {"X-Rentbook-Min-Position": r.headers["X-Rentbook-Position"]}
    assert ids(api.client.get(SEARCH, params=slots(10, 2), headers=wait).json()) == []
    assert ids(search(api, **slots(14, 2))) == [catalog["court"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "0,50,10,40"}, "bbox"),
        ({"radius_km": 5}, "radius_km"),
        ({"lat": 38.7}, "lng"),
        ({"start": "2030-01-05", "end": "2030-01-05"}, "end"),
        ({"start": "2030-01-05"}, "end"),
        ({"start": "2030-01-05", "end": "2030-01-07T10:00:00Z"}, "start"),
        ({"limit": 101}, "limit"),
        ({"sort": "cheapest"}, "sort"),
        ({"sort": "distance"}, "sort"),
    ],
)
def test_bad_parameters_are_422_problems(api: Api, params: dict[str, Any], field: str) -> None:
    r = api.client.get(SEARCH, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert any(e["loc"][-1] == field for e in r.json()["errors"]), r.json()


def test_search_key_is_404_on_the_embedded_backend(api: Api) -> None:
    r = api.client.get(f"{API}/search/key")
    assert r.status_code == 404
    assert r.json()["code"] == "search_key_unavailable"


class TokenIssuingIndex:
    """Stands in for MeilisearchIndex's key side: signs what it is asked to."""

    index_uid = "listings"

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked: list[datetime] = []

    def tenant_token(self, expires_at: datetime) -> str:
        self.asked.append(expires_at)
        return f"token-until-{int(expires_at.timestamp())}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_search_key_is_a_short_lived_token_when_meilisearch_is_configured(api: Api) -> None:
    container = api.container
    fake = TokenIssuingIndex(container.search)
    saved = container.search, container.settings.meilisearch_url
    container.search = fake  # type: ignore[assignment]
    container.settings.meilisearch_url = "https://search.example"
    try:
        r = api.client.get(f"{API}/search/key")
    finally:
        container.search, container.settings.meilisearch_url = saved
    assert r.status_code == 200, r.text
    body = r.json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) < expires - api.clock.now() <= timedelta(hours=1)
    assert body == {
        "key": f"token-until-{int(expires.timestamp())}",
        "expires_at": body["expires_at"],
        "index_uid": "listings",
        "host": "https://search.example",
    }
    assert r.headers["Cache-Control"] == "no-store"


def test_demo_listings_in_real_cities_are_searchable(api: Api) -> None:
    container = api.container
    summary = seed_demo(
        container.identity,
        container.listings,
        container.bookings,
        count=12,
        at=api.clock.now(),
        places=container.places,
    )
    assert summary.listings == 12
    eventually(lambda: search(api)["total_estimate"] >= 12, "12 listings indexed")
    facets = search(api)["facets"]
    assert {"stay", "vehicle", "equipment", "space", "court"} <= set(facets["category"])
    city = search(api, sort="newest", limit=1)["data"][0]["city"]
    assert city in {hit["city"] for hit in search(api, q=city)["data"]}


def test_dated_search_on_postgresql(pg_api: Api) -> None:
    owner = Actor(uuid.UUID(pg_api.new_user().id), "user")
    listing = active_listing(pg_api, owner, title="Harbour view studio")
    wait_indexed(pg_api, {listing}, q="harbour")
    start = pg_api.clock.now().date() + timedelta(days=20)
    period = {"start": start.isoformat(), "end": (start + timedelta(days=3)).isoformat()}
    assert ids(search(pg_api, q="harbor", **period)) == [listing]  # one typo
    renter = pg_api.new_user()
    r: Response = pg_api.client.post(
        f"{API}/bookings",
        json={"listing_id": listing, **period, "quantity": 1, "guests": 1},
        headers=renter.headers,
    )
    assert r.status_code == 201, r.text
    wait = {"X-Rentbook-Min-Position": r.headers["X-Rentbook-Position"]}
    assert ids(pg_api.client.get(SEARCH, params=period, headers=wait).json()) == []


def test_min_position_beyond_the_log_is_a_503(api: Api) -> None:
    api.app.state.min_position_timeout = 0.2
    r = api.client.get(SEARCH, headers={"X-Rentbook-Min-Position": "999999999"})
    assert r.status_code == 503
