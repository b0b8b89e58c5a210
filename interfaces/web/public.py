"""Public pages: home with search (list + map), a listing's page, its live quote, and the
place suggestions for the search box. First paint is server-rendered; htmx and Leaflet only
refine it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from application.search_queries import InvalidSearch, ListingSearch, SearchParams, hit_fields
from domain.errors import DomainError
from interfaces.web.listing_view import listing_page_context, quote_context
from interfaces.web.routing import PageRoute
from interfaces.web.session import VisitorDep
from interfaces.web.templating import render
from interfaces.web.wishlists import saved_ids
from projections.search_availability import ViewAvailability

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CATEGORIES = ("stay", "vehicle", "equipment", "space", "court", "other")
SORTS = {
    "relevance": "Best match",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "rating": "Rating",
    "newest": "Newest",
}
PAGE_SIZE = 24
MAX_OFFSET = 1000  # the search pages through the first thousand matches
_TEXT_KEYS = ("q", "place", "start", "end", "category", "sort", "bbox", "lat", "lng")
_INT_KEYS = ("guests", "min_price", "max_price")


def _query(
    request: Request, visitor: VisitorDep
) -> tuple[dict[str, str], dict[str, str], SearchParams]:
    """The search as the URL says it, the per-field errors, and the use case's params."""
    raw = request.query_params
    values = {k: raw.get(k, "").strip()[:200] for k in (*_TEXT_KEYS, *_INT_KEYS)}
    values["amenities"] = ",".join(raw.getlist("amenities"))
    errors: dict[str, str] = {}
    ints: dict[str, int | None] = {}
    for key in _INT_KEYS:
        text = values[key]
        ints[key] = None
        if text:
            if text.isdigit() and int(text) < 10**9:
                ints[key] = int(text) * (100 if key != "guests" else 1)
            else:
                errors[key] = "Enter a whole number."
    if values["category"] not in ("", *CATEGORIES):
        errors["category"], values["category"] = "Pick a category from the list.", ""
    if values["sort"] not in SORTS:
        values["sort"] = "relevance"
    if bool(values["start"]) != bool(values["end"]):
        errors["end" if values["start"] else "start"] = "Give both dates, or neither."
    lat, lng = _float(values["lat"]), _float(values["lng"])
    if values["place"] and (lat is None or lng is None):  # typed without picking: best match
        found = visitor.container.places.autocomplete(values["place"], limit=1)
        if found:
            lat, lng = found[0].lat, found[0].lng
        else:
            errors["place"] = "No city of that name; pick one from the suggestions."
    dated = not errors.get("start") and not errors.get("end")
    params = SearchParams(
        q=values["q"],
        category=values["category"] or None,
        lat=lat if lng is not None else None,
        lng=lng if lat is not None else None,
        radius_km=50.0 if lat is not None and lng is not None and not values["bbox"] else None,
        bbox=values["bbox"] or None,
        min_price=ints["min_price"],
        max_price=ints["max_price"],
        guests=ints["guests"],
        amenities=tuple(a for a in values["amenities"].split(",") if a),
        start=(values["start"] or None) if dated else None,
        end=(values["end"] or None) if dated else None,
        sort=values["sort"],
        limit=PAGE_SIZE,
        offset=_offset(raw.get("offset", "")),
    )
    return values, errors, params


def _offset(text: str) -> int:
    return min(int(text), MAX_OFFSET) if text.isdigit() and len(text) < 6 else 0


def _float(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _search(visitor: VisitorDep, params: SearchParams) -> tuple[list[dict[str, Any]], Any]:
    container = visitor.container
    if container.search is None:
        raise DomainError("search_unavailable", "search is not configured")
    runner = container.runner
    availability = ViewAvailability(container.views, lambda: runner.tables("availability"))
    page = ListingSearch(container.search, availability).search(params, at=visitor.now)
    return [hit_fields(hit) for hit in page.hits], page


@router.get("/", response_class=HTMLResponse)
def home(request: Request, visitor: VisitorDep) -> HTMLResponse:
    """Home and search: the query lives in the URL, so a search can be shared."""
    values, errors, params = _query(request, visitor)
    hits: list[dict[str, Any]] = []
    facets: dict[str, dict[str, int]] = {}
    total, next_offset = 0, None
    if not errors:
        try:
            hits, page = _search(visitor, params)
            facets, total, next_offset = page.facets, page.total_estimate, page.next_offset
        except InvalidSearch as error:
            errors[error.param if error.param in values else "q"] = error.reason
    markers = [
        {"id": str(h["id"]), "title": h["title"], "lat": h["_geo"]["lat"], "lng": h["_geo"]["lng"]}
        for h in hits
    ]
    context = {
        "values": values,
        "errors": errors,
        "hits": hits,
        "facets": facets,
        "total": total,
        "markers_json": json.dumps(markers).replace("<", "\\u003c"),  # safe inside <script>
        "categories": CATEGORIES,
        "sorts": SORTS,
        "chosen_amenities": set(params.amenities),
        "next_url": _with_offset(request, next_offset) if next_offset else "",
        "first_url": _with_offset(request, 0) if params.offset else "",
        "map_tiles": visitor.container.settings.web_map_tiles_url,
        "saved": saved_ids(visitor, [h["id"] for h in hits]),
    }
    partial = request.headers.get("hx-target") == "results"
    return render(request, "_results.html" if partial else "home.html", context)


def _with_offset(request: Request, offset: int) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    return "/?" + urlencode([*query, *([("offset", str(offset))] if offset else [])])


@router.get("/places/suggest", response_class=HTMLResponse)
def place_suggestions(
    request: Request, visitor: VisitorDep, place: str = "", city: str = ""
) -> HTMLResponse:
    """City suggestions under a city box (the same dataset as `GET /places`)."""
    text = (place or city).strip()[:100]
    places = visitor.container.places.autocomplete(text, limit=6) if len(text) >= 2 else []
    return render(request, "_places.html", {"places": places})


@router.get("/listings/{listing_id}", response_class=HTMLResponse)
def listing_page(request: Request, listing_id: UUID, visitor: VisitorDep) -> HTMLResponse:
    """A listing: photos, description, amenities, host, reviews, calendar and a quote."""
    start = request.query_params.get("start", "")[:40]
    end = request.query_params.get("end", "")[:40]
    guests = request.query_params.get("guests", "1")[:4]
    context = listing_page_context(visitor, listing_id, start=start, end=end, guests=guests)
    return render(request, "listing.html", context)


@router.get("/listings/{listing_id}/quote", response_class=HTMLResponse)
def listing_quote(
    request: Request,
    listing_id: UUID,
    visitor: VisitorDep,
    start: str = "",
    end: str = "",
    guests: str = "1",
) -> HTMLResponse:
    """The live quote fragment: every line, the total and the cancellation schedule."""
    context = quote_context(visitor, listing_id, start[:40], end[:40], guests[:4])
    return render(request, "_quote.html", context)
