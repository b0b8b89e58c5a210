"""Places: the offline adapter (on a small city table for the ranking rules, and on the shipped
dataset for what users will type), the listing time-zone default and the demo cities."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.demo_places import currency_for, demo_cities, local_amount
from application.listing_defaults import with_default_timezone
from application.places import Place, Places
from infrastructure.places_offline import OfflinePlaces, fold, shared_places


def city(
    name: str, country: str, population: int, *alternates: str, tz: str = "Europe/Berlin"
) -> dict[str, Any]:
    return {
        "geonameid": abs(hash((name, country))) % 10**9,
        "name": name,
        "countrycode": country,
        "latitude": 50.0,
        "longitude": 10.0,
        "population": population,
        "timezone": tz,
        "alternatenames": list(alternates),
    }


TABLE = [
    city("Berlin", "DE", 3_400_000, "Berlín", "Berlino"),
    city("Bergen", "NO", 285_000, tz="Europe/Oslo"),
    city("Bern", "CH", 134_000, "Berne", tz="Europe/Zurich"),
    city("Véroia", "GR", 44_000, "Ber", "Beroia", tz="Europe/Athens"),
    city("Vienna", "AT", 1_900_000, "Wien", tz="Europe/Vienna"),
    city("Wiener Neustadt", "AT", 45_000, tz="Europe/Vienna"),
    city("Wiesbaden", "DE", 278_000),
    city("Zürich", "CH", 341_000, "Zurich", tz="Europe/Zurich"),
    city("Zürich (Kreis 11)", "CH", 74_000, "Zurich Kreis 11", tz="Europe/Zurich"),
    city("Frankfurt am Main", "DE", 650_000, "Frankfurt"),
    city("Frankfurt (Oder)", "DE", 58_000),
    city("Saint-Étienne", "FR", 172_000, tz="Europe/Paris"),
    city("L'Aquila", "IT", 68_000, tz="Europe/Rome"),
    city("Łódź", "PL", 679_000, "Лодзь", tz="Europe/Warsaw"),
    city("Bath", "GB", 94_000, tz="Europe/London"),
    city("Bathinda", "IN", 285_000, tz="Asia/Kolkata"),
]


@pytest.fixture(scope="module")
def table() -> OfflinePlaces:
    return OfflinePlaces(load_cities=lambda: TABLE)


@pytest.fixture(scope="module")
def world() -> OfflinePlaces:
    # The process's shared instance: the same shipped dataset, and a pytest worker that has
    # built it already (an app's first /places request) does not build it again (~3 CPU-s).
    places = shared_places()
    places.load()
    return places


def names(found: list[Place]) -> list[str]:
    return [place.name for place in found]


# -- matching and ranking ----------------------------------------------------------------------


def test_folding_ignores_case_accents_and_punctuation() -> None:
    assert fold("Saint-Étienne") == "saint etienne"
    assert fold("  ŁÓDŹ ") == "lodz"
    assert fold("L'Aquila") == fold("l\u2019aquila") == "laquila"
    assert fold("St. Louis") == "st louis"
    assert fold("Straße") == "strasse"
    assert fold("\uff34\uff2f\uff2b\uff39\uff2f") == "tokyo"  # fullwidth TOKYO


def test_prefix_of_a_name_finds_cities_largest_first(table: OfflinePlaces) -> None:
    assert names(table.autocomplete("berg", 10)) == ["Bergen"]
    assert names(table.autocomplete("be", 3)) == ["Berlin", "Bergen", "Bern"]


def test_alternate_names_match_but_rank_below_names_of_similar_size(
    table: OfflinePlaces,
) -> None:
    assert names(table.autocomplete("wien", 10)) == ["Vienna", "Wiener Neustadt"]
    # Vienna only matches "wie" through "Wien": it ranks like a city 20 times smaller.
    assert names(table.autocomplete("wie", 10)) == ["Wiesbaden", "Vienna", "Wiener Neustadt"]
    assert names(table.autocomplete("лодз", 10)) == ["Łódź"]


def test_a_whole_name_typed_ranks_above_larger_prefix_matches(table: OfflinePlaces) -> None:
    assert names(table.autocomplete("bath", 10)) == ["Bath", "Bathinda"]
    assert names(table.autocomplete("ber", 10))[:3] == ["Berlin", "Bergen", "Bern"]


def test_matching_ignores_accents_and_punctuation(table: OfflinePlaces) -> None:
    assert names(table.autocomplete("saint etienne", 5)) == ["Saint-Étienne"]
    assert names(table.autocomplete("SAINT-ETI", 5)) == ["Saint-Étienne"]
    assert names(table.autocomplete("laquila", 5)) == ["L'Aquila"]
    assert names(table.autocomplete("lodz", 5)) == ["Łódź"]


def test_each_city_appears_once_and_districts_of_a_larger_namesake_are_dropped(
    table: OfflinePlaces,
) -> None:
    assert names(table.autocomplete("zur", 10)) == ["Zürich"]
    assert names(table.autocomplete("frankfurt", 10)) == ["Frankfurt am Main", "Frankfurt (Oder)"]


def test_country_narrows_and_limit_caps_the_answer(table: OfflinePlaces) -> None:
    assert names(table.autocomplete("be", 10, country="ch")) == ["Bern"]
    assert names(table.autocomplete("be", 10, country="US")) == []
    assert len(table.autocomplete("b", 2)) == 2
    assert table.autocomplete("be", 0) == []


@pytest.mark.parametrize("q", ["", "  ", "--", "'"])
def test_a_query_without_letters_finds_nothing(table: OfflinePlaces, q: str) -> None:
    assert table.autocomplete(q, 10) == []


def test_largest_lists_cities_by_population(table: OfflinePlaces) -> None:
    assert names(table.largest(2)) == ["Berlin", "Vienna"]
    assert names(table.largest(5, country="ch")) == ["Zürich", "Bern"]
    assert table.largest(3, country="XX") == []


def test_the_dataset_is_loaded_once_under_concurrent_first_queries() -> None:
    loads = 0

    def load() -> list[dict[str, Any]]:
        nonlocal loads
        loads += 1
        time.sleep(0.05)  # let the other threads arrive while the first one loads
        return TABLE

    places = OfflinePlaces(load_cities=load)
    answers: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: answers.append(names(places.autocomplete("wien", 5))))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == 1
    assert answers == [["Vienna", "Wiener Neustadt"]] * 8


# -- the shipped dataset ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "first"),
    [
        ("lisb", ("Lisbon", "PT", "Europe/Lisbon")),
        ("lisboa", ("Lisbon", "PT", "Europe/Lisbon")),
        ("sao pau", ("São Paulo", "BR", "America/Sao_Paulo")),
        ("münch", ("Munich", "DE", "Europe/Berlin")),
        ("new york", ("New York City", "US", "America/New_York")),
        ("tokyo", ("Tokyo", "JP", "Asia/Tokyo")),
        ("Москва", ("Moscow", "RU", "Europe/Moscow")),
    ],
)
def test_real_cities_are_found_offline(
    world: OfflinePlaces, q: str, first: tuple[str, str, str]
) -> None:
    place = world.autocomplete(q, 5)[0]
    assert (place.name, place.country, place.timezone) == first
    assert place.population >= 15_000


def test_queries_take_under_five_milliseconds_once_loaded(world: OfflinePlaces) -> None:
    queries = ["sa", "ma", "san", "la", "be", "lisb", "new y", "zür", "Москва", "st"]
    timings = []
    for q in queries * 5:
        for country in (None, "US", "NZ"):
            started = time.thread_time()  # CPU time: other processes on the box don't count
            world.autocomplete(q, 10, country)
            timings.append(time.thread_time() - started)
    assert statistics.median(timings) < 0.005
    assert max(timings) < 0.005


@given(rank=st.integers(0, 499), cut=st.integers(2, 12))
def test_every_large_city_is_found_by_its_name_and_prefixes_stay_in_the_country(
    world: OfflinePlaces, rank: int, cut: int
) -> None:
    place = world.largest(500)[rank]
    assert place in world.autocomplete(place.name, 50, country=place.country)
    found = world.autocomplete(place.name[:cut], 50, country=place.country)
    assert len(set(found)) == len(found)
    assert all(p.country == place.country for p in found)


@pytest.mark.parametrize(
    ("lat", "lng", "zone"),
    [
        (38.7223, -9.1393, "Europe/Lisbon"),
        (40.7128, -74.0060, "America/New_York"),
        (-33.8688, 151.2093, "Australia/Sydney"),
        (0.0, -30.0, None),  # mid-Atlantic
        (91.0, 0.0, None),
        (float("nan"), 0.0, None),
    ],
)
def test_timezone_at_a_point(
    world: OfflinePlaces, lat: float, lng: float, zone: str | None
) -> None:
    assert world.timezone_at(lat, lng) == zone


# -- listing defaults -------------------------------------------------------------------------


class FixedZone(Places):
    """A fake: one zone everywhere on land; at sea (lat 0, lng 0) none."""

    def __init__(self) -> None:
        self.asked: list[tuple[float, float]] = []

    def autocomplete(self, q: str, limit: int = 10, country: str | None = None) -> list[Place]:
        return []

    def timezone_at(self, lat: float, lng: float) -> str | None:
        self.asked.append((lat, lng))
        return None if (lat, lng) == (0, 0) else "Europe/Lisbon"

    def largest(self, limit: int, country: str | None = None) -> list[Place]:
        return []


def spec(**location: Any) -> dict[str, Any]:
    return {"title": "Flat", "location": {"city": "Lisbon", "country": "PT", **location}}


@pytest.mark.parametrize("given_tz", [{}, {"timezone": None}])
def test_a_missing_timezone_is_taken_from_the_coordinates(given_tz: dict[str, Any]) -> None:
    data = spec(lat=38.72, lng=-9.14, **given_tz)
    filled = with_default_timezone(data, FixedZone())
    assert filled["location"]["timezone"] == "Europe/Lisbon"
    assert filled["title"] == "Flat"
    assert "timezone" not in data["location"] or data["location"]["timezone"] is None


def test_a_given_timezone_is_kept_without_a_lookup() -> None:
    places = FixedZone()
    data = spec(lat=38.72, lng=-9.14, timezone="Europe/Madrid")
    assert with_default_timezone(data, places) == data
    assert places.asked == []


@pytest.mark.parametrize(
    "data",
    [
        {"title": "No location"},
        {"location": "Lisbon"},
        spec(lat="38.72", lng=-9.14),
        spec(lat=True, lng=-9.14),
        spec(lat=38.72),
        spec(lat=91, lng=0),
        spec(lat=float("nan"), lng=0),
        spec(lat=0, lng=0),  # at sea: the spec's validation will ask for a zone
    ],
)
def test_without_usable_coordinates_the_data_is_left_for_validation(data: dict[str, Any]) -> None:
    assert with_default_timezone(data, FixedZone()) is data


# -- demo cities ------------------------------------------------------------------------------


def test_demo_cities_take_each_country_in_turn_largest_first(table: OfflinePlaces) -> None:
    cities = demo_cities(table, 5, countries=("DE", "CH", "AT"))
    assert [c[0] for c in cities] == ["Berlin", "Zürich", "Vienna", "Frankfurt am Main", "Bern"]
    assert cities[1] == ("Zürich", "CH", 50.0, 10.0, "Europe/Zurich", "CHF")


def test_demo_cities_stop_when_the_countries_run_out(table: OfflinePlaces) -> None:
    assert len(demo_cities(table, 100, countries=("CH", "NO"))) == 3


def test_demo_cities_from_the_dataset_are_distinct_and_real(world: OfflinePlaces) -> None:
    cities = demo_cities(world, 200)
    assert len(set(cities)) == 200
    assert {"Lisbon", "Tokyo", "New York City", "London"} <= {c[0] for c in cities}
    assert all(c[5] == currency_for(c[1], c[4]) for c in cities)


def test_currency_by_country_with_regional_defaults() -> None:
    assert currency_for("PT") == "EUR"
    assert currency_for("JP") == "JPY"
    assert currency_for("RS", "Europe/Belgrade") == "EUR"
    assert currency_for("KE", "Africa/Nairobi") == "USD"


def test_demo_prices_are_whole_local_units() -> None:
    assert local_amount(12_500, "EUR") == 12_500
    assert local_amount(12_500, "JPY") == 20_000  # no minor unit: yen, in tens
    assert local_amount(12_500, "SEK") == 143_800
    assert local_amount(1_800, "GBP") == 1_500
    assert local_amount(0, "USD") == 0
