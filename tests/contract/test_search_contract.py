"""One suite, every backend: the same query gives the same hits in the same order, the same
facets, price stats and total as the Meilisearch reference fake."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.search import SearchIndex, SearchQuery, SearchResult
from tests.contract.conftest import CITIES, CORPUS, DAY0, HOUR0, backend_names, corpus_fake
from tests.search_fake import haversine_m

LISBON = CITIES["lisbon"]
PARIS = CITIES["paris"]

QUERIES: dict[str, SearchQuery] = {
    # words, prefix, typos
    "one word": SearchQuery(q="loft"),
    "word in title and in category data": SearchQuery(q="apartment"),
    "one typo": SearchQuery(q="apartmnt"),
    "one typo, five letters": SearchQuery(q="tenis"),
    "two typos": SearchQuery(q="convertabel"),
    "two typos, nine letters": SearchQuery(q="aparrtmentt"),
    "first-letter typo counts twice": SearchQuery(q="fennis"),
    "first-letter typo within two": SearchQuery(q="ponvertible"),
    "short word only as prefix": SearchQuery(q="cam"),
    "short word without typo": SearchQuery(q="cmp"),
    "prefix": SearchQuery(q="stud"),
    "trailing space: no prefix": SearchQuery(q="stud "),
    "exact beats prefix": SearchQuery(q="studio"),
    "multi-word": SearchQuery(q="tennis court"),
    "multi-word, last word dropped first": SearchQuery(q="court tennis"),
    "multi-word, words in two attributes": SearchQuery(q="family house"),
    "city": SearchQuery(q="lisbon"),
    "amenity word": SearchQuery(q="wifi"),
    "accents fold": SearchQuery(q="cafe"),
    "upper case": SearchQuery(q="CANAL"),
    "no match": SearchQuery(q="xyzzy"),
    # filters
    "everything": SearchQuery(limit=50),
    "category": SearchQuery(category="stay", limit=50),
    "category is case-insensitive": SearchQuery(category="Court"),
    "price range": SearchQuery(min_price=3000, max_price=9000, limit=50),
    "currency": SearchQuery(currency="USD"),
    "guests": SearchQuery(guests=6),
    "units": SearchQuery(units=3),
    "every amenity": SearchQuery(amenities=("wifi", "kitchen")),
    "instant book": SearchQuery(instant_book=True, limit=50),
    "request to book": SearchQuery(instant_book=False, limit=50),
    "booking units": SearchQuery(booking_units=("hour",), limit=50),
    "free nights": SearchQuery(free_nights=(DAY0 + 1, DAY0 + 4), booking_units=("night", "day")),
    "free hours": SearchQuery(free_hours=(HOUR0 + 11,), booking_units=("hour",)),
    "words and filters": SearchQuery(q="court", booking_units=("hour",), max_price=3000),
    # geo
    "radius": SearchQuery(lat=LISBON[1], lng=LISBON[2], radius_km=5),
    "radius, distance sort": SearchQuery(
        lat=LISBON[1], lng=LISBON[2], radius_km=400, sort="distance", limit=50
    ),
    "distance sort everywhere": SearchQuery(lat=PARIS[1], lng=PARIS[2], sort="distance", limit=50),
    "words near a point": SearchQuery(q="court", lat=PARIS[1], lng=PARIS[2]),
    "bounding box": SearchQuery(bbox=(49.2, 1.9, 48.5, 2.8)),
    "bounding box over Iberia": SearchQuery(bbox=(43.8, -10.0, 36.0, 3.5), limit=50),
    # sorts
    "price ascending": SearchQuery(sort="price_asc", limit=50),
    "price descending": SearchQuery(sort="price_desc", category="equipment"),
    "rating": SearchQuery(sort="rating", limit=50),
    "newest": SearchQuery(sort="newest", limit=50),
    "words sorted by price": SearchQuery(q="wifi", sort="price_asc"),
    # pages and facets
    "second page": SearchQuery(q="wifi", limit=5, offset=5),
    "page past the end": SearchQuery(limit=10, offset=40),
    "no facets": SearchQuery(q="court", facets=False),
}

# What Meilisearch answers, written down: pins the reference itself.
EXPECTED_IDS: dict[str, list[int]] = {
    "one word": [1, 5],
    "one typo, five letters": [32, 36],
    "two typos": [12],
    "first-letter typo counts twice": [],
    "first-letter typo within two": [12],
    "short word only as prefix": [14, 18, 20],
    "short word without typo": [],
    "prefix": [22, 26, 29, 9],
    "trailing space: no prefix": [],
    "exact beats prefix": [26, 29, 9, 22],
    "multi-word": [32, 36],
    "multi-word, last word dropped first": [32, 36, 33, 35, 34],
    "multi-word, words in two attributes": [3, 13, 15],
    "accents fold": [6],
    "upper case": [8, 27],
    "no match": [],
    "category is case-insensitive": [32, 33, 34, 35, 36],
    "bounding box": [11, 32, 24, 5, 6, 37, 29],
}


def _n(listing_id: str) -> int:
    return int(listing_id[-8:], 16)


def answer(result: SearchResult) -> dict[str, Any]:
    return {
        "ids": [_n(h.document["id"]) for h in result.hits],
        "distances": [h.distance_km for h in result.hits],
        "total": result.total_estimate,
        "facets": result.facets,
        "price_stats": result.price_stats,
    }


@pytest.fixture(scope="module")
def oracle() -> SearchIndex:
    return corpus_fake()


on_every_backend = pytest.mark.parametrize("empty_backend", backend_names(), indirect=True)
# The same, for the tests of `search_backend` (one corpus index per backend, shared).
on_every_corpus = pytest.mark.parametrize("search_backend", backend_names(), indirect=True)


@on_every_corpus
@pytest.mark.parametrize("name", list(QUERIES))
def test_backend_answers_as_meilisearch_does(
    name: str, search_backend: SearchIndex, oracle: SearchIndex
) -> None:
    query = QUERIES[name]
    assert answer(search_backend.search(query)) == answer(oracle.search(query))


@on_every_corpus
@pytest.mark.parametrize("name", list(EXPECTED_IDS))
def test_backend_returns_the_written_down_hits(name: str, search_backend: SearchIndex) -> None:
    assert answer(search_backend.search(QUERIES[name]))["ids"] == EXPECTED_IDS[name]


@on_every_corpus
def test_pages_concatenate_to_one_page(search_backend: SearchIndex) -> None:
    for sort in ("relevance", "price_asc", "price_desc", "rating", "newest"):
        whole = search_backend.search(SearchQuery(q="wifi", sort=sort, limit=100))
        pages = [
            search_backend.search(SearchQuery(q="wifi", sort=sort, limit=4, offset=o))
            for o in range(0, whole.total_estimate, 4)
        ]
        assert [h.document["id"] for p in pages for h in p.hits] == [
            h.document["id"] for h in whole.hits
        ]
        assert {p.total_estimate for p in pages} == {whole.total_estimate}


@on_every_backend
def test_versioned_writes(empty_backend: SearchIndex) -> None:
    doc = dict(CORPUS[0])
    empty_backend.upsert([{**doc, "version": 3, "title": "Version three"}])
    empty_backend.upsert([{**doc, "version": 2, "title": "Version two"}])  # stale: dropped
    assert empty_backend.get(doc["id"])["title"] == "Version three"  # type: ignore[index]
    empty_backend.delete([(doc["id"], 2)])  # older than stored: kept
    assert empty_backend.get(doc["id"]) is not None
    empty_backend.delete([(doc["id"], 3)])
    assert empty_backend.get(doc["id"]) is None
    empty_backend.upsert([{**doc, "version": 4}])  # a later version may come back
    assert empty_backend.get(doc["id"])["version"] == 4  # type: ignore[index]
    assert empty_backend.search(SearchQuery(q="loft")).total_estimate == 1
    empty_backend.clear()
    assert empty_backend.search(SearchQuery()).total_estimate == 0


@on_every_corpus
def test_stored_document_comes_back_unchanged(search_backend: SearchIndex) -> None:
    for doc in CORPUS[:5]:
        assert search_backend.get(doc["id"]) == doc
    assert search_backend.get("00000000-0000-4000-8000-000000000000") is None


# --- properties ------------------------------------------------------------------------

lats = st.floats(min_value=35.0, max_value=55.0, allow_nan=False)
lngs = st.floats(min_value=-12.0, max_value=16.0, allow_nan=False)
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@on_every_corpus
@PROPERTY_SETTINGS
@given(
    lat=lats,
    lng=lngs,
    radius_km=st.floats(min_value=0.5, max_value=1500, allow_nan=False),
    q=st.sampled_from(["", "wifi", "court", "apartment", "cam"]),
)
def test_a_radius_search_never_returns_a_listing_farther_than_the_radius(
    search_backend: SearchIndex, lat: float, lng: float, radius_km: float, q: str
) -> None:
    result = search_backend.search(
        SearchQuery(q=q, lat=lat, lng=lng, radius_km=radius_km, sort="distance", limit=100)
    )
    for hit in result.hits:
        geo = hit.document["_geo"]
        assert haversine_m(lat, lng, geo["lat"], geo["lng"]) <= radius_km * 1000 + 0.5
        assert hit.distance_km is not None and hit.distance_km <= radius_km + 0.001
    assert [h.distance_km for h in result.hits] == sorted(h.distance_km or 0 for h in result.hits)


@on_every_corpus
@PROPERTY_SETTINGS
@given(
    sort=st.sampled_from(["relevance", "price_asc", "price_desc", "rating", "newest", "distance"]),
    q=st.sampled_from(["", "wifi", "court", "apartment", "cam", "tenis"]),
    page=st.integers(min_value=1, max_value=9),
    category=st.sampled_from([None, "stay", "space", "court"]),
)
def test_sorting_is_total_and_stable_across_pages(
    search_backend: SearchIndex, sort: Any, q: str, page: int, category: str | None
) -> None:
    base = SearchQuery(q=q, sort=sort, category=category, lat=PARIS[1], lng=PARIS[2], limit=100)
    whole = search_backend.search(base)
    pages = [
        search_backend.search(replace(base, limit=page, offset=offset))
        for offset in range(0, whole.total_estimate, page)
    ]
    assert [h.document["id"] for p in pages for h in p.hits] == [
        h.document["id"] for h in whole.hits
    ]
    assert len({h.document["id"] for h in whole.hits}) == whole.total_estimate


@pytest.mark.parametrize("name", list(QUERIES))
def test_corpus_is_blind_to_the_rules_the_contract_leaves_out(name: str) -> None:
    """Word position and exact-attribute ranking (Meilisearch has them, the contract does
    not) never change an answer here, so the live run can agree with the fake."""
    query = QUERIES[name]
    assert answer(corpus_fake(meilisearch_extras=True).search(query)) == answer(
        corpus_fake().search(query)
    )
