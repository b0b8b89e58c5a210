"""The embedded search backends on a real SQLite file and a real PostgreSQL database: pages,
versioned writes, concurrency, a thousand documents, both backends agreeing, edge cases."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.search import SearchIndex, SearchIndexError, SearchQuery
from infrastructure.search_postgres import PostgresSearchIndex
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine
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
