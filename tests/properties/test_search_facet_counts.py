"""Facet counts maintained per generation equal counting over all matches.

For random documents (categories and amenities in several spellings, prices, some without
a category), random upserts (new versions changing any counted field, or only blocked days),
deletes and re-adds, every query answers the same total, facets and price range from the
maintained counts (`SqliteSearchIndex`) as from counting over its matches in SQL (a second
instance on the same database with `maintained_facets=False`), for every filter combination:
where the counts apply (no filter, a category) and where they do not (the fallback).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from application.search import SENTINEL_DAY, SearchQuery
from infrastructure.search_embedded_facets import scope_of
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine

DAY0 = 20_270

fields_st = st.fixed_dictionaries(
    {
        "category": st.sampled_from([None, "stay", "Stay", "vehicle", "court"]),
        "amenities": st.lists(
            st.sampled_from(["wifi", "WiFi", "kitchen", "gps", "Pool"]), max_size=4
        ),
        "price_amount": st.sampled_from([500, 900, 1_200, 5_000]),
        "currency": st.sampled_from(["EUR", "USD"]),
        "capacity": st.integers(1, 4),
        "blocked_nights": st.lists(st.integers(DAY0, DAY0 + 3), max_size=3),
    }
)
write_st = st.one_of(
    st.tuples(st.just("upsert"), st.integers(0, 7), fields_st),
    st.tuples(st.just("delete"), st.integers(0, 7), st.none()),
)
QUERIES = [
    SearchQuery(),
    SearchQuery(sort="price_asc", limit=3),
    SearchQuery(category="stay"),
    SearchQuery(category="STAY", offset=2),
    SearchQuery(category="vehicle"),
    SearchQuery(category="other"),
    SearchQuery(lat=38.7, lng=-9.1, sort="distance"),
    # the fallback: filters the maintained counts cannot answer
    SearchQuery(category="stay", max_price=1_000),
    SearchQuery(currency="EUR"),
    SearchQuery(amenities=("wifi",)),
    SearchQuery(guests=3),
    SearchQuery(q="cottage"),
    SearchQuery(free_nights=(DAY0, DAY0 + 1)),
]


def document(n: int, version: int, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "version": version,
        "title": f"Cottage {n}",
        "description": "",
        "category_data": {},
        "city": "Lisbon",
        "country": "Portugal",
        "_geo": {"lat": 38.7 + n / 100, "lng": -9.1},
        "units": 1,
        "booking_mode": "instant",
        "booking_unit": "night",
        "rating": 4.0 + n / 100,
        "review_count": 0,
        "created_at": 1_700_000_000 + n,
        "blocked_hours": [SENTINEL_DAY],
        **fields,
        "blocked_nights": [SENTINEL_DAY, *fields["blocked_nights"]],
    }


def test_scope_is_kept_for_no_filter_and_category_only() -> None:
    assert scope_of(SearchQuery(), []) == ""
    assert scope_of(SearchQuery(category=" Stay "), []) == "category:stay"
    assert scope_of(SearchQuery(category="stay", max_price=9), []) is None
    assert scope_of(SearchQuery(), ["loft"]) is None


@settings(max_examples=40, deadline=None)
@given(writes=st.lists(write_st, min_size=1, max_size=25))
def test_maintained_counts_equal_counting_over_matches(
    writes: list[tuple[str, int, dict[str, Any] | None]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}", pool_size=2)
        try:
            maintained = SqliteSearchIndex(engine)
            counted = SqliteSearchIndex(engine, maintained_facets=False)
            maintained.ensure_settings()
            versions: dict[int, int] = {}
            for step, (kind, n, fields) in enumerate(writes):
                versions[n] = versions.get(n, 0) + 1
                if kind == "upsert" and fields is not None:
                    maintained.upsert([document(n, versions[n], fields)])
                else:
                    maintained.delete([(document(n, 0, _ANY)["id"], versions[n])])
                if step % 5 == 4 or step == len(writes) - 1:
                    for query in QUERIES:
                        got, want = maintained.search(query), counted.search(query)
                        assert got.total_estimate == want.total_estimate, query
                        assert got.facets == want.facets, query
                        assert got.price_stats == want.price_stats, query
                        assert [h.document["id"] for h in got.hits] == [
                            h.document["id"] for h in want.hits
                        ], query
        finally:
            engine.dispose()


_ANY: dict[str, Any] = {"blocked_nights": []}
