"""The embedded search backends on a real SQLite file and a real PostgreSQL database: text,
relevance, filters, facets and geo (pages, writes and scale: `test_search_embedded_paging.py`)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.search import SearchIndex, SearchQuery
from infrastructure.search_embedded_geo import distance_km, haversine_m, radius_meters
from infrastructure.search_embedded_text import words
from tests.integration.search_embedded_support import (
    ENGINES,
    PARIS,
    doc,
    engine_for,
    ids,
    open_index,
    uid,
)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from engine_for(request, tmp_path)


@pytest.fixture
def index(engine: Engine) -> SearchIndex:
    return open_index(engine)


def test_words_are_folded_split_and_lowercased() -> None:
    assert words("Château-d'Eau, MÜNCHEN_Süd 2br") == [
        "chateau",
        "d",
        "eau",
        "munchen",
        "sud",
        "2br",
    ]


def test_empty_query_ranks_by_rating_then_newest_then_id(index: SearchIndex) -> None:
    index.upsert(
        [
            doc(1, rating=4.5),
            doc(2, rating=5.0),
            doc(3, rating=4.5),
            doc(4, rating=4.5, created_at=1_700_000_003),
        ]
    )
    assert ids(index, SearchQuery()) == [uid(2), uid(3), uid(4), uid(1)]


def test_text_is_case_and_accent_insensitive(index: SearchIndex) -> None:
    index.upsert([doc(1, title="Sunny CHÂTEAU"), doc(2, title="Flat")])
    assert ids(index, SearchQuery(q="chateau")) == [uid(1)]
    assert ids(index, SearchQuery(q="Château")) == [uid(1)]


def test_typos_by_word_length(index: SearchIndex) -> None:
    index.upsert(
        [
            doc(1, title="loft"),
            doc(2, title="apartment"),
            doc(3, title="house"),
            doc(4, title="mansion"),
        ]
    )
    assert ids(index, SearchQuery(q="lpft")) == []  # 4 letters: no typo allowed
    assert ids(index, SearchQuery(q="huose")) == [uid(3)]  # 5 letters: one (a transposition)
    assert ids(index, SearchQuery(q="hoxxe")) == []
    assert ids(index, SearchQuery(q="apartmnet")) == [uid(2)]  # 9 letters: two
    assert ids(index, SearchQuery(q="aprtmnet")) == []  # 8 letters, two typos


def test_last_word_matches_as_prefix_and_exact_beats_prefix(index: SearchIndex) -> None:
    index.upsert([doc(1, title="Lofty studio", rating=5.0), doc(2, title="Loft", rating=1.0)])
    assert ids(index, SearchQuery(q="lof")) == [uid(1), uid(2)]  # both prefixes: rating
    assert ids(index, SearchQuery(q="loft")) == [uid(2), uid(1)]  # exact beats prefix
    assert ids(index, SearchQuery(q="lof studio")) == []  # only the last word is a prefix


def test_relevance_orders_words_then_typos_then_attribute(index: SearchIndex) -> None:
    index.upsert(
        [
            doc(1, title="Quiet garden", rating=5.0),
            doc(2, title="Quiet", description="garden", rating=1.0),
            doc(3, title="Quiet gardne", rating=4.0),
            doc(4, title="Garden", rating=5.0),  # lacks the first word: not a hit
            doc(5, title="Calm", description="quiet", rating=5.0),
        ]
    )
    result = index.search(SearchQuery(q="quiet garden"))
    # all words in the title, then in a later attribute, then with a typo, then one word
    assert [h.document["id"] for h in result.hits] == [uid(1), uid(2), uid(3), uid(5)]
    assert result.total_estimate == 4


def test_filters(index: SearchIndex) -> None:
    index.upsert(
        [
            doc(1, category="stay", price_amount=5_000, capacity=4, amenities=["wifi", "pool"]),
            doc(2, category="stay", price_amount=15_000, capacity=2, booking_mode="request"),
            doc(3, category="workspace", booking_unit="hour", units=3, currency="USD"),
            doc(4, blocked_nights=[-1, 20_000, 20_001]),
        ]
    )
    assert ids(index, SearchQuery(category="workspace")) == [uid(3)]
    assert ids(index, SearchQuery(min_price=6_000, max_price=15_000, sort="price_asc")) == [
        uid(4),  # ties on price and rating: the newer first
        uid(3),
        uid(2),
    ]
    assert ids(index, SearchQuery(guests=3)) == [uid(1)]
    assert ids(index, SearchQuery(units=2)) == [uid(3)]
    assert ids(index, SearchQuery(currency="USD")) == [uid(3)]
    assert ids(index, SearchQuery(amenities=("wifi", "pool"))) == [uid(1)]
    assert ids(index, SearchQuery(instant_book=False)) == [uid(2)]
    assert set(ids(index, SearchQuery(instant_book=True))) == {uid(1), uid(3), uid(4)}
    assert uid(4) not in ids(index, SearchQuery(free_nights=(20_001, 20_005)))
    assert uid(4) in ids(index, SearchQuery(free_nights=(20_002,)))
    assert ids(index, SearchQuery(booking_units=("hour",))) == [uid(3)]


def test_free_hours_exclude_documents_blocked_in_any_of_them(index: SearchIndex) -> None:
    index.upsert([doc(1, blocked_hours=[-1, 480_000]), doc(2, blocked_hours=[-1])])
    assert ids(index, SearchQuery(free_hours=(479_999, 480_000))) == [uid(2)]


def test_facets_and_price_stats_cover_all_matches_not_the_page(index: SearchIndex) -> None:
    index.upsert(
        [
            doc(1, category="stay", price_amount=100, amenities=["wifi", "pool"]),
            doc(2, category="stay", price_amount=900, amenities=["wifi"]),
            doc(3, category="venue", price_amount=500, amenities=[]),
        ]
    )
    result = index.search(SearchQuery(limit=1))
    assert len(result.hits) == 1 and result.total_estimate == 3
    assert result.facets == {
        "category": {"stay": 2, "venue": 1},
        "amenities": {"pool": 1, "wifi": 2},
    }
    assert result.price_stats == {"min": 100, "max": 900}
    none = index.search(SearchQuery(category="nothing"))
    assert none.total_estimate == 0 and none.price_stats is None
    assert none.facets == {"category": {}, "amenities": {}}


def test_geo_radius_distance_sort_and_distance_km(index: SearchIndex) -> None:
    index.upsert(
        [
            doc(1, _geo={"lat": 48.8606, "lng": 2.3376}),  # the Louvre, ~1.1 km
            doc(2, _geo={"lat": 48.8584, "lng": 2.2945}),  # the Eiffel Tower, ~4.2 km
            doc(3, _geo={"lat": 45.7640, "lng": 4.8357}),  # Lyon
            doc(4, _geo={"lat": 48.8566, "lng": 2.3522}),  # here
        ]
    )
    result = index.search(SearchQuery(lat=PARIS[0], lng=PARIS[1], radius_km=5, sort="distance"))
    assert [h.document["id"] for h in result.hits] == [uid(4), uid(1), uid(2)]
    for hit in result.hits:
        g = hit.document["_geo"]
        assert hit.distance_km == distance_km(haversine_m(*PARIS, g["lat"], g["lng"]))
    assert result.hits[0].distance_km == 0.0
    plain = index.search(SearchQuery(lat=PARIS[0], lng=PARIS[1]))
    assert len(plain.hits) == 4 and all(h.distance_km is not None for h in plain.hits)
    assert all(h.distance_km is None for h in index.search(SearchQuery()).hits)


def test_radius_is_exact_in_whole_meters_around_the_globe(index: SearchIndex) -> None:
    rng = random.Random(4)
    docs = [
        doc(n, _geo={"lat": rng.uniform(-89, 89), "lng": rng.uniform(-180, 180)})
        for n in range(300)
    ]
    index.upsert(docs)
    for _ in range(20):
        lat, lng, radius = rng.uniform(-85, 85), rng.uniform(-180, 180), rng.uniform(10, 4000)
        found = index.search(SearchQuery(lat=lat, lng=lng, radius_km=radius, limit=1000))
        expected = {
            d["id"]
            for d in docs
            if haversine_m(lat, lng, d["_geo"]["lat"], d["_geo"]["lng"]) <= radius_meters(radius)
        }
        assert {h.document["id"] for h in found.hits} == expected
        assert found.total_estimate == len(expected)


def test_bounding_box_including_across_the_antimeridian(index: SearchIndex) -> None:
    index.upsert(
        [
            doc(1, _geo={"lat": 10.0, "lng": 179.5}),
            doc(2, _geo={"lat": 10.0, "lng": -179.5}),
            doc(3, _geo={"lat": 10.0, "lng": 0.0}),
            doc(4, _geo={"lat": 30.0, "lng": 179.5}),
        ]
    )
    assert set(ids(index, SearchQuery(bbox=(20.0, 179.0, 0.0, -179.0)))) == {uid(1), uid(2)}
    assert ids(index, SearchQuery(bbox=(20.0, -1.0, 0.0, 1.0))) == [uid(3)]
