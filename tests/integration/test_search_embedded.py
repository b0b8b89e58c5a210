"""The embedded search backends on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from application.search import SearchIndex, SearchIndexError, SearchQuery
from infrastructure.search_embedded_geo import distance_km, haversine_m, radius_meters
from infrastructure.search_embedded_text import words
from infrastructure.search_postgres import PostgresSearchIndex
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine

PARIS = (48.8566, 2.3522)


def uid(n: int) -> str:
    return str(uuid.UUID(int=n))


def doc(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": uid(n),
        "version": 1,
        "title": f"Listing {n}",
        "description": "A place",
        "category": "stay",
        "category_data": {"bedrooms": 2},
        "city": "Paris",
        "country": "France",
        "_geo": {"lat": PARIS[0], "lng": PARIS[1]},
        "price_amount": 10_000,
        "currency": "EUR",
        "capacity": 2,
        "units": 1,
        "amenities": ["wifi"],
        "booking_mode": "instant",
        "booking_unit": "night",
        "rating": 4.0,
        "review_count": 0,
        "created_at": 1_700_000_000 + n,
        "blocked_nights": [-1],
        "blocked_hours": [-1],
    }
    return base | fields


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = create_views_engine(url, pool_size=2)  # the shared server's connections
    yield engine
    engine.dispose()


@pytest.fixture
def index(engine: Engine) -> SearchIndex:
    index: SearchIndex = (
        SqliteSearchIndex(engine)
        if engine.dialect.name == "sqlite"
        else PostgresSearchIndex(engine)
    )
    index.ensure_settings()
    return index


def ids(index: SearchIndex, query: SearchQuery) -> list[str]:
    return [h.document["id"] for h in index.search(query).hits]


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


def test_pages_are_stable_and_total(index: SearchIndex) -> None:
    rng = random.Random(2)
    index.upsert(
        [
            doc(n, rating=rng.choice([3.0, 4.0]), created_at=rng.choice([1, 2]), price_amount=100)
            for n in range(57)
        ]
    )
    for sort in ("relevance", "price_asc", "rating", "newest"):
        everything = ids(index, SearchQuery(sort=sort, limit=100))
        paged = [
            i
            for offset in range(0, 57, 10)
            for i in ids(index, SearchQuery(sort=sort, limit=10, offset=offset))
        ]
        assert paged == everything and len(set(everything)) == 57


def test_versioned_upsert_and_delete(index: SearchIndex) -> None:
    index.upsert([doc(1, version=3, title="three")])
    index.upsert([doc(1, version=2, title="two")])
    assert index.get(uid(1))["title"] == "three"  # type: ignore[index]
    index.delete([(uid(1), 2)])
    assert index.get(uid(1)) is not None  # a delete at an older version leaves it
    index.delete([(uid(1), 4)])
    assert index.get(uid(1)) is None and ids(index, SearchQuery()) == []
    index.upsert([doc(1, version=4, title="four")])
    assert index.get(uid(1)) is None  # never resurrected by a version the delete covered
    index.upsert([doc(1, version=5, title="five")])
    assert index.get(uid(1))["title"] == "five"  # type: ignore[index]
    assert ids(index, SearchQuery(q="five")) == [uid(1)]
    assert ids(index, SearchQuery(q="three")) == []  # old words left the index


def test_clear_removes_everything(index: SearchIndex) -> None:
    index.upsert([doc(1), doc(2)])
    index.delete([(uid(3), 9)])
    index.clear()
    assert index.search(SearchQuery()).total_estimate == 0
    index.upsert([doc(3, version=1)])  # the tombstone went too
    assert ids(index, SearchQuery()) == [uid(3)]


def test_concurrent_searches_and_writes(index: SearchIndex) -> None:
    index.upsert([doc(n, title=f"word{n} cottage") for n in range(50)])
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(20):
                assert index.search(SearchQuery(q="cottage")).total_estimate >= 50
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for n in range(50, 70):
        index.upsert([doc(n, title="cottage")])
    for t in threads:
        t.join()
    assert not errors


def test_a_thousand_documents(index: SearchIndex) -> None:
    rng = random.Random(1)
    titles = ["Cozy loft", "Sunny apartment", "Quiet cottage", "Modern studio", "Garden villa"]
    docs = [
        doc(
            n,
            title=f"{rng.choice(titles)} {n}",
            category=rng.choice(["stay", "venue", "workspace"]),
            price_amount=rng.randint(1_000, 90_000),
            rating=rng.choice([3.0, 3.5, 4.0, 4.5, 5.0]),
            amenities=rng.sample(["wifi", "pool", "parking", "kitchen"], 2),
            _geo={"lat": PARIS[0] + rng.uniform(-1, 1), "lng": PARIS[1] + rng.uniform(-1, 1)},
            blocked_nights=[-1, *rng.sample(range(20_000, 20_030), 5)],
        )
        for n in range(1_000)
    ]
    for start in range(0, 1_000, 250):
        index.upsert(docs[start : start + 250])
    result = index.search(SearchQuery(q="cozy", category="stay", free_nights=(20_003,)))
    expected = [
        d
        for d in docs
        if d["title"].startswith("Cozy")
        and d["category"] == "stay"
        and 20_003 not in d["blocked_nights"]
    ]
    assert result.total_estimate == len(expected)
    assert result.price_stats == {
        "min": min(d["price_amount"] for d in expected),
        "max": max(d["price_amount"] for d in expected),
    }
    best = sorted(expected, key=lambda d: (-d["rating"], -d["created_at"], d["id"]))[:20]
    assert [h.document["id"] for h in result.hits] == [d["id"] for d in best]
    near = index.search(SearchQuery(lat=PARIS[0], lng=PARIS[1], sort="distance", limit=5))
    distances = [h.distance_km for h in near.hits]
    assert distances == sorted(distances)  # type: ignore[type-var]


@pytest.mark.postgres
def test_sqlite_and_postgres_give_identical_answers(tmp_path: Path, pg_url: str) -> None:
    rng = random.Random(9)
    vocabulary = ["cozy", "cosy", "loft", "lofty", "apartment", "appartment", "garden"]
    vocabulary += ["gardens", "quiet", "château"]
    docs = [
        doc(
            n,
            title=" ".join(rng.sample(vocabulary, 2)),
            description=" ".join(rng.sample(vocabulary, 3)),
            rating=rng.choice([4.0, 4.5]),
            created_at=rng.choice([1, 2, 3]),
            price_amount=rng.randint(1, 9) * 1_000,
            amenities=rng.sample(["wifi", "pool", "parking"], rng.randint(0, 3)),
            _geo={"lat": rng.uniform(40, 50), "lng": rng.uniform(-5, 15)},
            blocked_nights=[-1, *rng.sample(range(10), 3)],
        )
        for n in range(400)
    ]
    engines = [create_views_engine(f"sqlite:///{tmp_path / 'v.db'}", pool_size=2)]
    engines.append(create_views_engine(pg_url, pool_size=2))
    indexes: list[SearchIndex] = [SqliteSearchIndex(engines[0]), PostgresSearchIndex(engines[1])]
    try:
        for index in indexes:
            index.ensure_settings()
            index.upsert(docs)
        for _ in range(60):
            query = SearchQuery(
                q=rng.choice(["", "cozy", "cosy gardn", "apartmnet", "quiet lo", "chateau q"]),
                lat=45.0,
                lng=5.0,
                radius_km=rng.choice([None, 300.0, 600.0]),
                max_price=rng.choice([None, 5_000]),
                amenities=tuple(rng.sample(["wifi", "pool"], rng.randint(0, 1))),
                free_nights=tuple(rng.sample(range(10), rng.randint(0, 2))),
                sort=rng.choice(["relevance", "distance", "price_desc", "newest"]),
                limit=15,
                offset=rng.choice([0, 15]),
            )
            sqlite, postgres = (index.search(query) for index in indexes)
            assert sqlite == postgres, query
    finally:
        for engine in engines:
            engine.dispose()


def test_first_letter_typo_counts_twice_and_a_trailing_space_ends_the_prefix(
    index: SearchIndex,
) -> None:
    index.upsert([doc(1, title="tennis"), doc(2, title="convertible"), doc(3, title="studios")])
    assert ids(index, SearchQuery(q="fennis")) == []  # 6 letters: one typo, not the first
    assert ids(index, SearchQuery(q="ponvertible")) == [uid(2)]  # 11 letters: counts as two
    assert ids(index, SearchQuery(q="stud")) == [uid(3)]
    assert ids(index, SearchQuery(q="stud ")) == []
    assert ids(index, SearchQuery(q="stuido")) == [uid(3)]  # a prefix with one typo


def test_filter_values_are_case_insensitive_and_facets_keep_the_spelling(
    index: SearchIndex,
) -> None:
    index.upsert([doc(1, category="Court", amenities=["WiFi", "Pool"]), doc(2, category="court")])
    assert set(ids(index, SearchQuery(category="COURT"))) == {uid(1), uid(2)}
    assert ids(index, SearchQuery(amenities=("wifi", "pool"))) == [uid(1)]
    facets = index.search(SearchQuery()).facets
    assert sum(facets["category"].values()) == 2 and len(facets["category"]) == 1
    assert facets["amenities"]["WiFi"] == 2  # doc 2's default "wifi" joins the same value


def test_a_batch_with_an_invalid_geo_is_refused_whole(index: SearchIndex) -> None:
    with pytest.raises(SearchIndexError):
        index.upsert([doc(1), doc(2, _geo={"lat": 91.0, "lng": 0.0})])
    assert index.search(SearchQuery()).total_estimate == 0


def test_no_page_reaches_past_a_thousand_hits(index: SearchIndex) -> None:
    index.upsert([doc(n) for n in range(1_005)])
    assert len(index.search(SearchQuery(limit=10, offset=995)).hits) == 5
    assert index.search(SearchQuery(limit=10, offset=1_000)).hits == []
    assert index.search(SearchQuery(limit=0)).total_estimate == 1_005
