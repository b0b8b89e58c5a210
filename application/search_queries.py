"""Listing search as the API offers it: parameters in, a page of bookable hits out.

`ListingSearch.search` turns the API's parameters into a `SearchQuery` for the index, then,
for a dated search, re-checks every candidate against the availability view (through the
`Availability` port) and drops any that cannot take `quantity` units for every night, day or
slot of the period: the index only prefilters (it syncs after the views, and its blocked
keys only say "no free unit", not "fewer than `quantity`"). Dropped hits are replaced from
further index pages, so a page is full whenever enough bookable listings exist;
`next_offset` says where the next page starts in the index's order.

The period's form picks the listings it applies to:
- `YYYY-MM-DD` dates search nightly and daily listings (the nights/days in [start, end));
  hourly listings are left out, as "free on these dates" has no single meaning for them.
- RFC 3339 instants with an offset search hourly listings (every slot in [start, end));
  nightly and daily ones are left out. A listing whose slots do not start on `start` (a
  zone whose offset is not a whole number of hours) cannot be booked then and is dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Protocol, get_args, runtime_checkable
from uuid import UUID

from application.search import SearchHit, SearchIndex, SearchQuery, SearchResult, Sort
from domain.errors import RuleViolation
from domain.periods import parse_period
from domain.search_availability import Availability, SearchPeriod

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
HOUR = 3600
MAX_LIMIT = 100
MAX_NIGHTS = 366
MAX_HOURS = 31 * 24
TOP_UP_ROUNDS = 4  # index pages fetched, beyond the first, to refill a page after drops
SORTS: tuple[str, ...] = get_args(Sort)


class InvalidSearch(RuleViolation):
    """A search parameter is malformed or contradicts another (HTTP 422)."""

    def __init__(self, param: str, detail: str) -> None:
        super().__init__("invalid_search", f"{param}: {detail}")
        self.param = param
        self.reason = detail


@dataclass(frozen=True)
class SearchParams:
    """The API's query parameters, typed but not yet checked against each other."""

    q: str = ""
    category: str | None = None
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    bbox: str | None = None  # "west,south,east,north" in degrees
    min_price: int | None = None
    max_price: int | None = None
    currency: str | None = None
    guests: int | None = None
    amenities: tuple[str, ...] = ()
    instant_book: bool | None = None
    start: str | None = None
    end: str | None = None
    quantity: int = 1
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total_estimate: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    price_stats: dict[str, int] | None = None
    next_offset: int | None = None


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """`west,south,east,north` (RFC 7946 order) into the port's (top, left, bottom, right);
    west > east crosses the antimeridian."""
    parts = raw.split(",")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise InvalidSearch("bbox", "expected four numbers: west,south,east,north") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidSearch("bbox", "coordinates must be finite")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise InvalidSearch("bbox", "longitudes must be within [-180, 180]")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise InvalidSearch("bbox", "latitudes must be within [-90, 90]")
    if south > north:
        raise InvalidSearch("bbox", "south must not be above north")
    return north, west, south, east


def parse_search_period(start: str | None, end: str | None) -> SearchPeriod | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise InvalidSearch("start" if start is None else "end", "start and end go together")
    unit = "hour" if "T" in start.upper() or "T" in end.upper() else "night"
    try:
        first, last = parse_period(unit, start, end)
    except RuleViolation as error:
        param = "end" if error.detail.startswith("end") else "start"
        raise InvalidSearch(param, error.detail) from None
    period = SearchPeriod(first, last)
    if period.hourly:
        if len(period.index_hours()) > MAX_HOURS:
            raise InvalidSearch("end", f"an hourly search spans at most {MAX_HOURS} hours")
    elif (last - first).days > MAX_NIGHTS:  # type: ignore[operator]
        raise InvalidSearch("end", f"a dated search spans at most {MAX_NIGHTS} days")
    return period


def build_query(params: SearchParams) -> tuple[SearchQuery, SearchPeriod | None]:
    """The index query for `params`, and the period to re-check (None without dates)."""
    if params.sort not in SORTS:
        raise InvalidSearch("sort", f"one of {', '.join(SORTS)}")
    if not 1 <= params.limit <= MAX_LIMIT:
        raise InvalidSearch("limit", f"between 1 and {MAX_LIMIT}")
    if params.offset < 0:
        raise InvalidSearch("offset", "must not be negative")
    if params.quantity < 1:
        raise InvalidSearch("quantity", "at least 1")
    has_point = params.lat is not None or params.lng is not None
    if has_point and (params.lat is None or params.lng is None):
        raise InvalidSearch("lat" if params.lat is None else "lng", "lat and lng go together")
    if params.radius_km is not None and not has_point:
        raise InvalidSearch("radius_km", "needs lat and lng")
    if params.sort == "distance" and not has_point:
        raise InvalidSearch("sort", "distance needs lat and lng")
    low, high = params.min_price, params.max_price
    if low is not None and high is not None and low > high:
        raise InvalidSearch("max_price", "must not be below min_price")
    period = parse_search_period(params.start, params.end)
    guests = params.guests
    if guests is not None:  # a booking takes capacity x quantity guests
        guests = -(-guests // params.quantity)
    query = SearchQuery(
        q=params.q,
        category=params.category,
        lat=params.lat,
        lng=params.lng,
        radius_km=params.radius_km,
        bbox=parse_bbox(params.bbox) if params.bbox is not None else None,
        min_price=params.min_price,
        max_price=params.max_price,
        currency=params.currency,
        guests=guests,
        units=params.quantity if params.quantity > 1 else None,
        amenities=tuple(params.amenities),
        instant_book=params.instant_book,
        sort=params.sort,  # type: ignore[arg-type]
        limit=params.limit,
        offset=params.offset,
    )
    if period is not None:
        if period.hourly:
            query = replace(query, free_hours=period.index_hours(), booking_units=("hour",))
        else:
            query = replace(query, free_nights=period.index_days(), booking_units=("night", "day"))
    return query, period


class ListingSearch:
    def __init__(self, index: SearchIndex, availability: Availability) -> None:
        self.index = index
        self.availability = availability

    def search(self, params: SearchParams, *, at: datetime) -> SearchPage:
        """A page of hits in the index's order; with dates, only listings that can take
        `quantity` units for the whole period right now, per the availability view."""
        query, period = build_query(params)
        first = self.index.search(query)
        if period is None:
            end = query.offset + len(first.hits)
            more = len(first.hits) == query.limit and end < first.total_estimate
            return _page(first, first.hits, first.total_estimate, end if more else None)
        return self._rechecked(query, period, params.quantity, first, at.astimezone(UTC))

    def _rechecked(
        self,
        query: SearchQuery,
        period: SearchPeriod,
        quantity: int,
        first: SearchResult,
        at: datetime,
    ) -> SearchPage:
        kept: list[SearchHit] = []
        chunk, cursor, dropped, rounds = first, query.offset, 0, 0
        next_offset: int | None = None
        while True:
            ids = [UUID(hit.id) for hit in chunk.hits]
            ok = self.availability.bookable(ids, period, quantity, at) if ids else set()
            for i, (hit, listing_id) in enumerate(zip(chunk.hits, ids, strict=True)):
                if listing_id in ok:
                    kept.append(hit)
                else:
                    dropped += 1
                if len(kept) == query.limit:
                    consumed = cursor + i + 1
                    next_offset = consumed if consumed < first.total_estimate else None
                    break
            else:
                cursor += len(chunk.hits)
                exhausted = len(chunk.hits) < chunk_limit(query, rounds) or (
                    cursor >= first.total_estimate
                )
                if exhausted:
                    next_offset = None
                elif rounds < TOP_UP_ROUNDS:
                    rounds += 1
                    more = replace(
                        query, offset=cursor, limit=chunk_limit(query, rounds), facets=False
                    )
                    chunk = self.index.search(more)
                    continue
                else:  # page left short: the client carries on from here
                    next_offset = cursor
            break
        total = max(first.total_estimate - dropped, query.offset + len(kept))
        return _page(first, kept, total, next_offset)


def chunk_limit(query: SearchQuery, round_: int) -> int:
    """How many candidates a round asks the index for: the page first, then more."""
    return query.limit if round_ == 0 else max(query.limit, 20)


def _page(
    result: SearchResult, hits: list[SearchHit], total: int, next_offset: int | None
) -> SearchPage:
    return SearchPage(hits, total, result.facets, result.price_stats, next_offset)


def hit_fields(hit: SearchHit) -> dict[str, Any]:
    """The public fields of a hit (the index's availability arrays stay inside)."""
    doc = hit.document
    return {
        "id": doc["id"],
        "title": doc["title"],
        "category": doc["category"],
        "city": doc["city"],
        "country": doc["country"],
        "price": {"amount": doc["price_amount"], "currency": doc["currency"]},
        "capacity": doc["capacity"],
        "units": doc.get("units", 1),
        "amenities": list(doc.get("amenities") or ()),
        "booking_mode": doc["booking_mode"],
        "booking_unit": doc["booking_unit"],
        "rating": doc.get("rating", 0.0),
        "review_count": doc.get("review_count", 0),
        "cover_thumbnail_url": doc.get("cover_thumbnail_url"),
        "_geo": doc["_geo"],
        "distance_km": hit.distance_km,
    }


@runtime_checkable
class TenantTokens(Protocol):
    """A search backend browsers can query directly (Meilisearch): it signs short-lived,
    search-only tokens restricted to active listings."""

    def tenant_token(self, expires_at: datetime) -> str: ...
