"""The search page as JSON bytes, without building pydantic models of every hit.

`GET /search/listings` used to build a `SearchHitPublic` per hit and a `SearchResultsPublic`,
which FastAPI then validated again against the response model before dumping it (306 µs
for a 20-hit page, against 114 µs for this path, on a loaded 2-core box). The body here is
the same JSON (the response model still documents it; `tests/http/test_search_lean_json.py`
holds the two equal), built from plain values and dumped by pydantic-core's serialiser
(faster than the model path and than `json.dumps`, 227 µs; orjson is not a dependency,
see `bench/json_responses.py`).

`results_body` writes the same bytes without parsing the index's documents: a hit's public
fields (all but `distance_km` and `in_wishlist`) are a pure function of its stored JSON, so
their serialised fragment is kept per stored body (`_FRAGMENTS_HELD` of them); a page then
costs a dict look-up and a join per hit instead of a parse, a dict and a dump (issue #9).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pydantic_core
from fastapi import Response

from application.search import SearchHit
from application.search_queries import SearchPage

_FRAGMENTS_HELD = 4_096  # ~0.5 KB each, plus its key when the index no longer holds it
_fragments: dict[bytes, tuple[bytes, str]] = {}


def hit_json(hit: SearchHit, in_wishlist: bool) -> dict[str, Any]:
    """`SearchHitPublic`'s fields in its order, with its coercions (floats stay floats)."""
    return {
        **_stored_fields(hit.document),
        "distance_km": hit.distance_km,
        "in_wishlist": in_wishlist,
    }


def _stored_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """The public fields that come from the document alone, in `SearchHitPublic`'s order."""
    geo = doc["_geo"]
    return {
        "id": str(doc["id"]),
        "title": doc["title"],
        "category": doc["category"],
        "city": doc["city"],
        "country": doc["country"],
        "price": {"amount": int(doc["price_amount"]), "currency": doc["currency"]},
        "capacity": int(doc["capacity"]),
        "units": int(doc.get("units", 1)),
        "amenities": list(doc.get("amenities") or ()),
        "booking_mode": doc["booking_mode"],
        "booking_unit": doc["booking_unit"],
        "rating": float(doc.get("rating", 0.0)),
        "review_count": int(doc.get("review_count", 0)),
        "cover_thumbnail_url": doc.get("cover_thumbnail_url"),
        "_geo": {"lat": float(geo["lat"]), "lng": float(geo["lng"])},
    }


def _fragment(hit: SearchHit) -> tuple[bytes, str]:
    """`_stored_fields` serialised without its closing brace, and the hit's id."""
    stored = hit.stored
    if stored is not None and (kept := _fragments.get(stored)) is not None:
        return kept
    fields = _stored_fields(hit.document)
    made = (pydantic_core.to_json(fields)[:-1], fields["id"])
    if stored is not None:
        if len(_fragments) >= _FRAGMENTS_HELD:
            _fragments.clear()
        _fragments[stored] = made
    return made


def results_json(page: SearchPage, wishlisted: Collection[str] = ()) -> dict[str, Any]:
    """`SearchResultsPublic` of `page` as plain values; `wishlisted`: hit ids to mark."""
    stats = page.price_stats
    return {
        "data": [hit_json(hit, str(hit.document["id"]) in wishlisted) for hit in page.hits],
        "total_estimate": page.total_estimate,
        "facets": {
            "category": dict(page.facets.get("category", {})),
            "amenities": dict(page.facets.get("amenities", {})),
            "price_stats": None if not stats else {"min": stats["min"], "max": stats["max"]},
        },
        "next_offset": page.next_offset,
    }


def json_response(body: dict[str, Any]) -> Response:
    return Response(pydantic_core.to_json(body), media_type="application/json")


def results_body(page: SearchPage, wishlisted: Collection[str] = ()) -> bytes:
    """`pydantic_core.to_json(results_json(page, wishlisted))`, byte for byte."""
    hits = []
    for hit in page.hits:
        fragment, id_ = _fragment(hit)
        tail = pydantic_core.to_json(hit.distance_km) if hit.distance_km is not None else b"null"
        marked = b"true" if id_ in wishlisted else b"false"
        hits.append(b'%s,"distance_km":%s,"in_wishlist":%s}' % (fragment, tail, marked))
    rest = results_json(
        SearchPage([], page.total_estimate, page.facets, page.price_stats, page.next_offset)
    )
    del rest["data"]
    return b'{"data":[' + b",".join(hits) + b"]," + pydantic_core.to_json(rest)[1:]


def body_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")
