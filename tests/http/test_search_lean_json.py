"""The lean search body (`interfaces/http/search_json.py`) is byte-for-value the JSON the
response model `SearchResultsPublic` gives, for random pages: hits with and without distance,
ints where floats are declared, missing optional fields, wishlist marks, facets and price
stats present or not."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from application.search import SearchHit
from application.search_queries import SearchPage
from interfaces.http.search_json import json_response, results_json
from interfaces.http.search_schemas import SearchHitPublic, SearchResultsPublic

number_st = st.one_of(st.integers(-90, 90), st.floats(-90, 90, allow_nan=False))
document_st = st.fixed_dictionaries(
    {
        "id": st.uuids().map(str),
        "version": st.integers(1, 9),
        "title": st.text(max_size=20),
        "category": st.sampled_from(["stay", "vehicle"]),
        "city": st.text(max_size=8),
        "country": st.sampled_from(["PT", "FR"]),
        "price_amount": st.integers(0, 10**9),
        "currency": st.sampled_from(["EUR", "USD"]),
        "capacity": st.integers(1, 20),
        "amenities": st.lists(st.text(max_size=6), max_size=4),
        "booking_mode": st.sampled_from(["instant", "request"]),
        "booking_unit": st.sampled_from(["night", "day", "hour"]),
        "_geo": st.fixed_dictionaries({"lat": number_st, "lng": number_st}),
        "blocked_nights": st.just([-1, 20_300]),
    },
    optional={
        "units": st.integers(1, 9),
        "rating": st.one_of(st.integers(0, 5), st.floats(0, 5)),
        "review_count": st.integers(0, 500),
        "cover_thumbnail_url": st.one_of(st.none(), st.just("/api/v1/media/x/thumb")),
    },
)
hit_st = st.builds(
    SearchHit,
    document=document_st,
    distance_km=st.one_of(st.none(), st.floats(0, 20_000, allow_nan=False)),
)
counts_st = st.dictionaries(st.text(max_size=6), st.integers(0, 99), max_size=4)


def pages_of(hits: st.SearchStrategy[SearchHit], max_hits: int) -> st.SearchStrategy[SearchPage]:
    """Search pages of up to `max_hits` hits drawn from `hits`, with any facets and stats."""
    return st.builds(
        SearchPage,
        hits=st.lists(hits, max_size=max_hits),
        total_estimate=st.integers(0, 1000),
        facets=st.one_of(
            st.just({}), st.fixed_dictionaries({"category": counts_st, "amenities": counts_st})
        ),
        price_stats=st.one_of(
            st.none(),
            st.fixed_dictionaries({"min": st.integers(0, 9), "max": st.integers(9, 99)}),
        ),
        next_offset=st.one_of(st.none(), st.integers(1, 1000)),
    )


page_st = pages_of(hit_st, 5)


def model_json(page: SearchPage, marked: set[str]) -> Any:
    results = SearchResultsPublic.of(page)
    for hit in results.data:
        hit.in_wishlist = hit.id in marked
    return json.loads(results.model_dump_json(by_alias=True))


@settings(max_examples=150, deadline=None)
@given(page=page_st, data=st.data())
def test_lean_body_equals_the_response_model(page: SearchPage, data: st.DataObject) -> None:
    ids = [str(hit.document["id"]) for hit in page.hits]
    marked = set(data.draw(st.lists(st.sampled_from(ids), unique=True))) if ids else set()
    lean = json.loads(bytes(json_response(results_json(page, marked)).body))
    # dumped again so that 1 and 1.0 differ (the model's floats stay floats)
    assert json.dumps(lean) == json.dumps(model_json(page, marked))
    assert list(lean) == list(SearchResultsPublic.model_fields)
    fields = [f.alias or name for name, f in SearchHitPublic.model_fields.items()]
    assert all(list(hit) == fields for hit in lean["data"])
