"""A stored search document's id read without parsing it (`stored_id`, issue #9) is the
parsed document's id, whatever its text fields and `category_data` hold (quotes, escapes,
nested `id` keys), or None (then callers parse); `SearchHit.id` agrees with the document."""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from application.search import SearchHit
from infrastructure.search_embedded import document_json, stored_id

_TRICKY = st.sampled_from(['"id":"x"', '\\"id\\":\\"', 'id":"', "\\", '"', "é", "\u2028", ""])
_TEXT = st.lists(st.one_of(_TRICKY, st.text(max_size=6)), max_size=4).map("".join)
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), _TEXT),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.just("id"), _TEXT), inner, max_size=3),
    ),
    max_leaves=8,
)
_IDS = st.one_of(st.uuids().map(str), _TEXT)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "id": draw(_IDS),
        "version": draw(st.integers(0, 10**6)),
        "title": draw(_TEXT),
        "description": draw(_TEXT),
        "category_data": draw(st.dictionaries(st.one_of(st.just("id"), _TEXT), _JSON)),
        "_geo": {"lat": 1.5, "lng": -2.25},
        "amenities": draw(st.lists(_TEXT, max_size=3)),
        "city": draw(_TEXT),
        "cover_thumbnail_url": draw(st.one_of(st.none(), _TEXT)),
        "price_amount": draw(st.integers(0, 10**7)),
        "rating": 4.5,
        "units": 1,
    }


@given(documents())
def test_the_stored_id_is_the_documents_own_or_none(document: dict[str, Any]) -> None:
    body = document_json(document).encode()
    found = stored_id(body)
    assert found is None or found == document["id"]
    plain = document["id"].isascii() and document["id"].isprintable()
    if plain and '"' not in document["id"] and "\\" not in document["id"]:
        assert found == document["id"]
    hit = SearchHit(stored=body, listing_id=found)
    assert hit.id == json.loads(body)["id"]


def test_a_uuid_id_is_read_from_a_real_shaped_body() -> None:
    listing = str(uuid.uuid4())
    body = document_json(
        {"id": listing, "category_data": {"id": "other", "x": {"id": "deeper"}}, "title": "t"}
    ).encode()
    assert stored_id(body) == listing
    assert stored_id(b'{"title":"no id here"}') is None
