"""Maintained facet counts on both embedded backends: after upserts, field changes, blocked-day
changes, deletes and re-adds they equal counting over the matches; an index built before the
counts existed is counted once when its settings are applied; a rebuild's clear empties them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from application.search import SearchIndex, SearchQuery
from infrastructure.search_postgres import PostgresSearchIndex
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine
from tests.integration.test_search_embedded_cache import DAY0, doc

QUERIES = [
    SearchQuery(),
    SearchQuery(category="stay"),
    SearchQuery(category="Vehicle", sort="price_desc"),
    SearchQuery(category="stay", amenities=("wifi",)),  # counted: amenities filter
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'views.db'}"
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    engine = create_views_engine(url, pool_size=2)
    yield engine
    engine.dispose()


def pair(engine: Engine) -> tuple[SearchIndex, SearchIndex]:
    kind = SqliteSearchIndex if engine.dialect.name == "sqlite" else PostgresSearchIndex
    maintained, counted = kind(engine), kind(engine, maintained_facets=False)
    maintained.ensure_settings()
    return maintained, counted


def assert_same(maintained: SearchIndex, counted: SearchIndex) -> None:
    for query in QUERIES:
        got, want = maintained.search(query), counted.search(query)
        assert (got.total_estimate, got.facets, got.price_stats) == (
            want.total_estimate,
            want.facets,
            want.price_stats,
        ), query
        assert got.hits == want.hits, query


def test_counts_follow_every_kind_of_write(engine: Engine) -> None:
    maintained, counted = pair(engine)
    maintained.upsert(
        [doc(n, amenities=["wifi", "Pool"] if n % 2 else ["kitchen"]) for n in range(6)]
    )
    assert maintained.search(SearchQuery()).facets == {
        "category": {"stay": 6},
        "amenities": {"kitchen": 3, "Pool": 3, "wifi": 3},
    }
    assert_same(maintained, counted)
    maintained.upsert([doc(1, version=2, category="Vehicle", price_amount=50)])
    maintained.upsert([doc(2, version=2, blocked_nights=[-1, DAY0])])  # counts unchanged
    maintained.delete([(doc(3)["id"], 1)])
    assert maintained.search(SearchQuery(category="vehicle")).facets["category"] == {"Vehicle": 1}
    assert maintained.search(SearchQuery()).price_stats == {"min": 50, "max": 1005}
    assert_same(maintained, counted)
    maintained.upsert([doc(3, version=2, amenities=[])])  # back after its delete
    maintained.delete([(doc(1)["id"], 2)])
    assert maintained.search(SearchQuery()).total_estimate == 5
    assert_same(maintained, counted)


def test_an_index_from_before_the_counts_is_counted_once(engine: Engine) -> None:
    maintained, counted = pair(engine)
    maintained.upsert([doc(n) for n in range(4)])
    with engine.begin() as conn:  # as an index built before they existed
        conn.execute(text("DELETE FROM search_facet_counts"))
        conn.execute(text("DELETE FROM search_facet_prices"))
    fresh, _ = pair(engine)  # ensure_settings counts the stored documents
    assert fresh.search(SearchQuery()).total_estimate == 4
    assert_same(fresh, counted)
    fresh.clear()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM search_facet_counts")).scalar() == 0
    assert fresh.search(SearchQuery()).total_estimate == 0
