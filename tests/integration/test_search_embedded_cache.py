"""The embedded backends' answer cache never serves an answer from before a write: not after
this process's writes, not after another instance's (another process) writes, not after a
write that changes only blocked days; and callers never share cached objects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from application.search import SENTINEL_DAY, SearchIndex, SearchQuery
from infrastructure.search_postgres import PostgresSearchIndex
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine

DAY0 = 20_270


def doc(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "version": 1,
        "title": f"Cottage number {n}",
        "description": "",
        "category": "stay",
        "category_data": {},
        "city": "Lisbon",
        "country": "Portugal",
        "_geo": {"lat": 38.72 + n / 1000, "lng": -9.14},
        "price_amount": 1000 + n,
        "currency": "EUR",
        "capacity": 2,
        "units": 1,
        "amenities": ["wifi", "kitchen"],
        "booking_mode": "instant",
        "booking_unit": "night",
        "rating": 4.0 + n / 100,
        "review_count": 0,
        "created_at": 1_700_000_000 + n,
        "blocked_nights": [SENTINEL_DAY],
        "blocked_hours": [SENTINEL_DAY],
    }
    return base | fields


def make(engine: Engine) -> SearchIndex:
    index: SearchIndex = (
        SqliteSearchIndex(engine)
        if engine.dialect.name == "sqlite"
        else PostgresSearchIndex(engine)
    )
    index.ensure_settings()
    return index


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'views.db'}"
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    engine = create_views_engine(url, pool_size=2)
    yield engine
    engine.dispose()


QUERIES = [
    SearchQuery(),
    SearchQuery(q="cottage"),
    SearchQuery(sort="price_asc", limit=2),
    SearchQuery(free_nights=(DAY0, DAY0 + 1)),
    SearchQuery(category="stay", max_price=1003),
]


def answers(index: SearchIndex) -> list[Any]:
    return [index.search(q) for q in QUERIES]


def test_writes_of_another_instance_are_seen(engine: Engine) -> None:
    reader, writer = make(engine), make(engine)
    writer.clear()
    writer.upsert([doc(n) for n in range(5)])
    before = answers(reader)
    assert answers(reader) == before  # served again (from the cache or not), unchanged
    writer.upsert([doc(9, title="Cottage by the sea", price_amount=1)])
    after = answers(reader)
    assert after != before
    assert after == answers(make(engine))  # a fresh instance (no cache) agrees
    writer.delete([(doc(9)["id"], 1)])
    assert answers(reader) == before


def test_a_change_of_blocked_days_only_is_seen_by_dated_and_undated_queries(
    engine: Engine,
) -> None:
    reader, writer = make(engine), make(engine)
    writer.clear()
    writer.upsert([doc(n) for n in range(5)])
    dated = SearchQuery(free_nights=(DAY0, DAY0 + 1))
    assert reader.search(dated).total_estimate == 5
    assert reader.search(SearchQuery()).hits[0].document["version"] == 1
    writer.upsert([doc(4, version=2, blocked_nights=[SENTINEL_DAY, DAY0 + 1])])
    result = reader.search(dated)
    assert result.total_estimate == 4
    assert result.facets["category"] == {"stay": 4}
    undated = reader.search(SearchQuery())
    assert undated.total_estimate == 5
    assert undated.hits[0].document["version"] == 2  # the page is fresh too
    assert undated.hits[0].document["blocked_nights"] == [SENTINEL_DAY, DAY0 + 1]


def test_callers_never_share_cached_objects(engine: Engine) -> None:
    index = make(engine)
    index.clear()
    index.upsert([doc(n) for n in range(3)])
    first = index.search(SearchQuery())
    first.hits[0].document["title"] = "changed"
    first.facets["category"]["stay"] = 99
    assert first.price_stats is not None
    first.price_stats["min"] = -1
    again = index.search(SearchQuery())
    assert again.hits[0].document["title"] != "changed"
    assert again.facets["category"]["stay"] == 3
    assert again.price_stats == {"min": 1000, "max": 1002}


def test_facets_asked_after_a_cached_answer_without_them(engine: Engine) -> None:
    index = make(engine)
    index.clear()
    index.upsert([doc(n) for n in range(3)])
    bare = index.search(SearchQuery(facets=False))
    assert bare.facets == {} and bare.price_stats is None and bare.total_estimate == 3
    full = index.search(SearchQuery())
    assert full.facets == {"category": {"stay": 3}, "amenities": {"kitchen": 3, "wifi": 3}}
    assert full.price_stats == {"min": 1000, "max": 1002}
    assert index.search(SearchQuery(facets=False)) == bare


def test_clear_then_rebuild_is_seen(engine: Engine) -> None:
    reader, writer = make(engine), make(engine)
    writer.clear()
    writer.upsert([doc(n) for n in range(3)])
    assert reader.search(SearchQuery()).total_estimate == 3
    writer.clear()
    assert reader.search(SearchQuery()).total_estimate == 0
    writer.upsert([doc(7)])
    assert [h.document["id"] for h in reader.search(SearchQuery()).hits] == [doc(7)["id"]]
