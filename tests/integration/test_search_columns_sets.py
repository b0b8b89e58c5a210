"""The column store's broad-query structures (`search_columns_sets`, `search_columns_broad`)
answer as the SQL path does: random filters x dates x facets x sorts, with every query
forced broad (order walks, bitset counts) and forced narrow (gathers), facet values as
bitsets and as rid lists, and dated queries probed or read day by day."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from application.search import SearchQuery
from infrastructure import search_columns_query, search_columns_sets
from infrastructure.search_columns_sets import first_passing, pack, value_sets
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine
from tests.contract.conftest import CITIES, CORPUS, DAY0, HOUR0
from tests.integration.test_search_columns import Pair, answer


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    path: Path = tmp_path_factory.mktemp("sets") / "views.db"
    engine = create_views_engine(f"sqlite:///{path}", pool_size=2)
    stored, counted = SqliteSearchIndex(engine), SqliteSearchIndex(engine, columns="off")
    stored.ensure_settings()
    spelled = [  # a second spelling of an amenity and a category: the facet shows the smallest
        {**CORPUS[0], "id": "0f0f0f0f-0000-4000-8000-000000000001", "amenities": ["WIFI", "Pool"],
         "_geo": {"lat": 48.9, "lng": 2.4}, "rating": 1.5},
        {**CORPUS[1], "id": "0f0f0f0f-0000-4000-8000-000000000002", "category": "STAY",
         "_geo": {"lat": 52.6, "lng": 13.3}, "rating": 1.25},
    ]  # fmt: skip
    stored.upsert([*CORPUS, *spelled])
    yield stored, counted
    engine.dispose()


dated = st.builds(
    SearchQuery,
    q=st.sampled_from(["", "", "wifi", "court", "a", "studio lisbon", "court pa"]),
    category=st.sampled_from([None, "stay", "court"]),
    min_price=st.sampled_from([None, 0, 3000, 12_000]),
    max_price=st.sampled_from([None, 5000, 20_000]),
    guests=st.sampled_from([None, 2, 6]),
    amenities=st.sampled_from([(), ("wifi",), ("kitchen", "wifi"), ("pool",)]),
    instant_book=st.sampled_from([None, True, False]),
    free_nights=st.sampled_from(
        [(), (DAY0,), (DAY0 + 1, DAY0 + 4), tuple(range(DAY0, DAY0 + 9)), (DAY0 + 400,)]
    ),
    free_hours=st.sampled_from([(), (HOUR0 + 11,), (HOUR0 + 9, HOUR0 + 10, HOUR0 + 11)]),
    booking_units=st.sampled_from([(), ("night",), ("hour", "day")]),
    sort=st.sampled_from(["relevance", "price_asc", "price_desc", "rating", "newest", "distance"]),
    limit=st.integers(0, 40),
    offset=st.sampled_from([0, 1, 7, 30, 995]),
    facets=st.booleans(),
)


@pytest.mark.parametrize("broad_share", [10**9, 0, 64], ids=["broad", "narrow", "default"])
@pytest.mark.parametrize("dense_share", [64, 0], ids=["bitsets", "rid-lists"])
@pytest.mark.parametrize("probe_up_to", [10**6, 0], ids=["probe", "days"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=dated, where=st.sampled_from([None, *CITIES.values()]))
def test_random_filtered_dated_queries_answer_as_sql_does(
    pair: Pair,
    monkeypatch: pytest.MonkeyPatch,
    broad_share: int,
    dense_share: int,
    probe_up_to: int,
    query: SearchQuery,
    where: Any,
) -> None:
    stored, counted = pair
    monkeypatch.setattr(search_columns_query, "BROAD_SHARE", broad_share)
    monkeypatch.setattr(search_columns_query, "PROBE_UP_TO", probe_up_to)
    monkeypatch.setattr(search_columns_sets, "DENSE_SHARE", dense_share)
    built = stored.columns.store
    if built is not None and (len(built.amenity_sets.dense_keys) == 0) != (dense_share == 0):
        stored.columns.clear()  # rebuilt with this share of bitsets
    if where is not None:
        query = replace(query, lat=where[1], lng=where[2])
    assert answer(stored.search(query)) == answer(counted.search(query))
    store = stored.columns.store
    assert store is not None
    assert (len(store.amenity_sets.dense_keys) == 0) == (dense_share == 0)


@settings(max_examples=200, deadline=None)
@given(
    mask=hnp.arrays(np.bool_, st.integers(1, 300)),
    wanted=st.integers(0, 50),
    share=st.floats(0.001, 1.0),
    data=st.data(),
)
def test_first_passing_is_the_masked_order_cut(
    mask: np.ndarray, wanted: int, share: float, data: st.DataObject
) -> None:
    order = np.asarray(data.draw(st.permutations(range(len(mask)))), np.int32)
    expected = [r for r in order.tolist() if mask[r]][:wanted]
    assert first_passing(order, mask, wanted, share).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 400),
    data=st.data(),
    dense_share=st.sampled_from([0, 4, 64, 10**6]),
)
def test_value_set_counts_are_the_matches_per_key(
    size: int, data: st.DataObject, dense_share: int
) -> None:
    n_keys = data.draw(st.integers(1, 6))
    rows = data.draw(
        st.sets(st.tuples(st.integers(0, size - 1), st.integers(0, n_keys - 1)), max_size=600)
    )
    rids = np.array([r for r, _ in rows], np.int32)
    keys = np.array([k for _, k in rows], np.int32)
    labels = keys * 2 + (rids % 2)  # two spellings per key
    single = np.full(n_keys, -1, np.int32)
    sets = value_sets(size, rids, keys, labels, n_keys, single, dense_share)
    mask = data.draw(hnp.arrays(np.bool_, size))
    counts = sets.counts(mask, pack(mask))
    for key in range(n_keys):
        hit = [
            (r, lab) for r, k, lab in zip(rids, keys, labels, strict=True) if k == key and mask[r]
        ]
        assert counts[key] == len(hit)
        if hit:
            assert sets.smallest_label(key, mask) == min(lab for _, lab in hit)
