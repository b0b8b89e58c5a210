"""The SQLite index's in-memory column store (`infrastructure/search_columns*.py`) answers
exactly as its SQL path does, for the contract's queries and random ones, and never from a
generation older than the query's snapshot (writes of every kind, both build modes)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.search import SearchQuery, SearchResult
from infrastructure import search_columns_query
from infrastructure.search_columns_query import PROBE_UP_TO
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine
from tests.contract.conftest import CITIES, CORPUS, DAY0, HOUR0
from tests.contract.test_search_contract import QUERIES

Pair = tuple[SqliteSearchIndex, SqliteSearchIndex]


def answer(result: SearchResult) -> dict[str, Any]:
    return {
        "hits": [(h.document, h.distance_km) for h in result.hits],
        "total": result.total_estimate,
        "facets": result.facets,
        "price_stats": result.price_stats,
    }


@pytest.fixture(scope="module", name="pair")
def column_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Two indexes on one SQLite file holding CORPUS: the column store's and SQL's."""
    path: Path = tmp_path_factory.mktemp("columns") / "views.db"
    engine = create_views_engine(f"sqlite:///{path}", pool_size=2)
    stored, counted = SqliteSearchIndex(engine), SqliteSearchIndex(engine, columns="off")
    stored.ensure_settings()
    stored.upsert(CORPUS)
    yield stored, counted
    engine.dispose()


def assert_same(pair: Pair, query: SearchQuery) -> None:
    stored, counted = pair
    assert answer(stored.search(query)) == answer(counted.search(query))
    assert stored.columns.store is not None  # the answer came from the store


@pytest.mark.parametrize("name", list(QUERIES))
def test_contract_queries_answer_as_sql_does(name: str, pair: Pair) -> None:
    assert_same(pair, QUERIES[name])
    assert_same(pair, replace(QUERIES[name], sort="distance"))  # with no point: relevance


point = st.sampled_from([None, *CITIES.values()])
queries = st.builds(
    SearchQuery,
    q=st.sampled_from(["", "wifi", "court", "apartment", "cam", "tenis", "a", "studio lisbon "]),
    category=st.sampled_from([None, "stay", "Court", "nothing"]),
    min_price=st.sampled_from([None, 0, 3000]),
    max_price=st.sampled_from([None, 9000, 20_000]),
    currency=st.sampled_from([None, "EUR", "usd"]),
    guests=st.sampled_from([None, 2, 6]),
    units=st.sampled_from([None, 2]),
    amenities=st.sampled_from([(), ("wifi",), ("wifi", "kitchen"), ("nope",)]),
    instant_book=st.sampled_from([None, True, False]),
    free_nights=st.sampled_from([(), (DAY0 + 1, DAY0 + 4), (DAY0,)]),
    free_hours=st.sampled_from([(), (HOUR0 + 11,)]),
    booking_units=st.sampled_from([(), ("hour",), ("night", "day")]),
    sort=st.sampled_from(["relevance", "price_asc", "price_desc", "rating", "newest", "distance"]),
    limit=st.integers(0, 60),
    offset=st.sampled_from([0, 3, 20, 999, 2000]),
    facets=st.booleans(),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=queries,
    where=point,
    radius=st.sampled_from([None, 5.0, 400.0, 2500.0]),
    bbox=st.sampled_from([None, (49.2, 1.9, 48.5, 2.8), (60.0, 170.0, -60.0, -170.0)]),
)
def test_random_queries_answer_as_sql_does(
    pair: Pair, query: SearchQuery, where: Any, radius: float | None, bbox: Any
) -> None:
    if where is not None:
        query = replace(query, lat=where[1], lng=where[2], radius_km=radius)
    assert_same(pair, replace(query, bbox=bbox))


def fresh_pair(tmp_path: Path, mode: Any) -> tuple[SqliteSearchIndex, SqliteSearchIndex, Any]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}", pool_size=2)
    stored, counted = (
        SqliteSearchIndex(engine, columns=mode),
        SqliteSearchIndex(engine, columns="off"),
    )
    stored.ensure_settings()
    stored.upsert(CORPUS)
    return stored, counted, engine


WATCHED = [
    SearchQuery(),
    SearchQuery(q="court", facets=True),
    SearchQuery(free_nights=(DAY0 + 1,), booking_units=("night", "day"), limit=50),
    SearchQuery(free_nights=(DAY0 + 1, DAY0 + 2), free_hours=(HOUR0 + 11,), limit=50),
    SearchQuery(sort="price_asc", limit=50),
]


def writes(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """A write of each kind: static change, version only, blocked days only, delete, re-add."""
    v = int(doc["version"])
    return [
        ("upsert", [{**doc, "version": v + 1, "title": "Zebra court", "price_amount": 1}]),
        ("upsert", [{**doc, "version": v + 2, "title": "Zebra court", "price_amount": 1}]),
        ("upsert", [{**doc, "version": v + 3, "title": "Zebra court", "price_amount": 1,
                     "blocked_nights": [-1, DAY0 + 1]}]),
        ("delete", [(doc["id"], v + 3)]),
        ("upsert", [{**doc, "version": v + 4}]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "probe_up_to"), [("sync", PROBE_UP_TO), ("sync", 0), ("background", PROBE_UP_TO)]
)
def test_no_answer_comes_from_an_older_generation(
    tmp_path: Path, mode: Any, probe_up_to: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`probe_up_to` 0: blocked days are read whole and kept per write generation."""
    monkeypatch.setattr(search_columns_query, "PROBE_UP_TO", probe_up_to)
    stored, counted, engine = fresh_pair(tmp_path, mode)
    try:
        # CORPUS[1]: nightly, free on DAY0 + 1 until the third write blocks it
        for kind, arg in writes(CORPUS[1]):
            getattr(stored, kind)(arg)
            for query in WATCHED:  # right after the write: the store's, or SQL's answer
                assert answer(stored.search(query)) == answer(counted.search(query))
        deadline = time.monotonic() + 30
        while mode == "background" and time.monotonic() < deadline:
            stored.search(SearchQuery())
            store = stored.columns.store
            if store is not None and store.documents == len(CORPUS):
                break
            time.sleep(0.05)
        for query in WATCHED:  # the newest generation's store now answers
            assert_same((stored, counted), query)
        assert stored.columns.store is not None
        stats = stored.columns.store.stats()
        assert stats["documents"] == len(CORPUS) and stats["array_bytes"] > 0
    finally:
        engine.dispose()
