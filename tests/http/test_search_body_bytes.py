"""The search body written from stored JSON (`results_body`) is, byte for byte, the body
`results_json` gives dumped by pydantic-core, whether hits carry their stored JSON (parsed
on demand, fragments kept per stored body) or a parsed document (Meilisearch, PostgreSQL);
and a hit made from stored JSON equals the one made from its document."""

from __future__ import annotations

import json
from typing import Any

import pydantic_core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.search import SearchHit
from application.search_queries import SearchPage
from interfaces.http.search_json import results_body, results_json
from tests.http.test_search_lean_json import document_st, pages_of


def stored(document: dict[str, Any]) -> bytes:
    """As the embedded backends store a body (`search_embedded.document_json`)."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


hit_st = st.builds(
    lambda doc, km, keep: (
        SearchHit(stored=stored(doc), distance_km=km) if keep else SearchHit(doc, km)
    ),
    document_st,
    st.one_of(st.none(), st.floats(0, 20_000, allow_nan=False), st.integers(0, 50)),
    st.booleans(),
)
page_st = pages_of(hit_st, 6)


@settings(max_examples=200, deadline=None)
@given(page=page_st, data=st.data())
def test_body_bytes_equal_the_dumped_plain_body(page: SearchPage, data: st.DataObject) -> None:
    ids = [str(hit.document["id"]) for hit in page.hits]
    marked = set(data.draw(st.lists(st.sampled_from(ids), unique=True))) if ids else set()
    expected = pydantic_core.to_json(results_json(page, marked))
    assert results_body(page, marked) == expected
    assert results_body(page, marked) == expected  # again, from the kept fragments


@settings(max_examples=50, deadline=None)
@given(document=document_st, km=st.one_of(st.none(), st.floats(0, 100)))
def test_a_stored_hit_equals_its_parsed_document(document: dict[str, Any], km: float) -> None:
    lazy = SearchHit(stored=stored(document), distance_km=km)
    assert lazy == SearchHit(json.loads(stored(document)), km)
    assert lazy.document is lazy.document  # parsed once
    assert SearchHit(stored=stored(document)).document is not lazy.document  # never shared


def test_a_hit_is_immutable_and_needs_a_document() -> None:
    hit = SearchHit({"id": "x"}, 1.5)
    with pytest.raises(AttributeError):
        hit.distance_km = 2.0
    with pytest.raises(TypeError):
        SearchHit()
