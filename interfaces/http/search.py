"""Search endpoints: listings by words, filters, place and dates; keys for browsers.

Read-your-writes: `X-Rentbook-Min-Position` waits for the views this endpoint reads (the
search documents and availability views) and for the search index, which the syncer fills
from the search documents view a moment after it (`interfaces/http/search_positions.py`).
Without the header an undated search may still show a listing's previous text, price or
status for that moment; a dated search re-checks every candidate against the availability
view before it is returned.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from application.search_queries import (
    InvalidSearch,
    ListingSearch,
    SearchParams,
    TenantTokens,
)
from domain.errors import NotFoundError
from infrastructure.bootstrap import Container
from interfaces.http.deps import ContainerDep, Now, credentials, get_optional_principal
from interfaces.http.positions import min_position
from interfaces.http.schemas_common import problem_responses
from interfaces.http.search_json import body_response, results_body
from interfaces.http.search_positions import wait_for_search_index
from interfaces.http.search_schemas import SearchKeyPublic, SearchResultsPublic
from interfaces.http.wishlist_marks import wishlisted_hits
from projections.search_availability import ViewAvailability

router = APIRouter(tags=["search"])

KEY_LIFETIME = timedelta(minutes=15)
Category = Literal["stay", "vehicle", "equipment", "space", "court", "other"]
SortParam = Literal["relevance", "price_asc", "price_desc", "rating", "distance", "newest"]


def get_listing_search(container: Container) -> ListingSearch:
    if container.search is None:
        raise NotFoundError("search_unavailable", "search is not configured")
    runner = container.runner
    availability = ViewAvailability(container.views, lambda: runner.tables("availability"))
    return ListingSearch(container.search, availability)


@router.get(
    "/search/listings",
    response_model=SearchResultsPublic,
    responses=problem_responses(422, 503),
)
def search_listings(
    request: Request,
    q: Annotated[str, Query(max_length=200, description="Words; typos tolerated")] = "",
    category: Category | None = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lng: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[
        float | None, Query(gt=0, le=20_000, description="Needs lat and lng")
    ] = None,
    bbox: Annotated[
        str | None,
        Query(
            description="west,south,east,north in degrees (west > east crosses the antimeridian)",
            examples=["-9.25,38.69,-9.09,38.80"],
        ),
    ] = None,
    min_price: Annotated[int | None, Query(ge=0, description="Minor units")] = None,
    max_price: Annotated[int | None, Query(ge=0, description="Minor units")] = None,
    currency: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{3}$", description="Only prices in it")
    ] = None,
    guests: Annotated[int | None, Query(ge=1, le=1000)] = None,
    amenities: Annotated[
        list[str] | None,
        Query(description="Every one required; repeat or separate with commas"),
    ] = None,
    instant_book: bool | None = None,
    start: Annotated[
        str | None,
        Query(description="YYYY-MM-DD (nightly/daily listings) or RFC 3339 (hourly)"),
    ] = None,
    end: Annotated[str | None, Query(description="Exclusive; same form as start")] = None,
    quantity: Annotated[int, Query(ge=1, le=1000, description="Units wanted")] = 1,
    sort: SortParam = "relevance",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
    x_rentbook_min_position: Annotated[
        str | None,
        Header(
            description="Wait until the search index and the views this endpoint reads "
            "(the wishlists view too: `in_wishlist` reads it) include this position."
        ),
    ] = None,
) -> Response:
    """Finds active listings. Filters combine with AND: `category`; a circle (`lat`, `lng`,
    `radius_km`) and/or a box (`bbox`); base price between `min_price` and `max_price`
    (minor units; add `currency` to compare like with like); `guests` (spread over
    `quantity` units); every one of `amenities`; `instant_book`.

    With `start` and `end`, only listings that have `quantity` free units for the whole
    period are returned, checked against the live calendar: dates (`YYYY-MM-DD`, end
    exclusive) search nightly and daily listings, RFC 3339 instants search hourly ones
    (every slot from start to end must be open and free); the other kind is left out.

    `sort`: `relevance` (words, typos, where they matched, then rating), `price_asc`,
    `price_desc`, `rating`, `distance` (needs `lat`/`lng`) or `newest`. Hits carry
    `distance_km` when a point was given. `facets` count categories and amenities and give
    the price range over all matches. Page with `limit` and `offset`; follow `next_offset`
    rather than adding `limit`, as a dated page may skip unbookable candidates. At most the
    first 1,000 matches can be paged through. Signed in, hits carry `in_wishlist`."""
    # The lean path (issue #9): no dependencies (each sync one is a thread-pool hop), no
    # waiting without the header, no session lookup without credentials, no pydantic model
    # of the hits (see `search_json`).
    container: Container = request.app.state.container
    if x_rentbook_min_position is not None:
        wait_for_search_index(request, container, x_rentbook_min_position)
        _wait_for_wishlists(request, container, x_rentbook_min_position)
    search = get_listing_search(container)
    principal = get_optional_principal(request, container) if credentials(request) else None
    params = SearchParams(
        q=q,
        category=category,
        lat=lat,
        lng=lng,
        radius_km=radius_km,
        bbox=bbox,
        min_price=min_price,
        max_price=max_price,
        currency=currency.upper() if currency else None,
        guests=guests,
        amenities=_amenities(amenities),
        instant_book=instant_book,
        start=start,
        end=end,
        quantity=quantity,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    try:
        page = search.search(params, at=container.clock.now())
    except InvalidSearch as error:
        loc = ("query", error.param)
        raise RequestValidationError(
            [{"loc": loc, "msg": error.reason, "type": "value_error"}]
        ) from None
    marked = wishlisted_hits(container, principal.user_id, page) if principal else set()
    return body_response(results_body(page, marked))


_wait_for_wishlists = min_position("wishlists")


def _amenities(raw: list[str] | None) -> tuple[str, ...]:
    values = (part.strip() for item in raw or () for part in item.split(","))
    return tuple(dict.fromkeys(v for v in values if v))


@router.get("/search/key", response_model=SearchKeyPublic, responses=problem_responses(404))
def search_key(container: ContainerDep, now: Now, response: Response) -> SearchKeyPublic:
    """A short-lived (15 min) tenant token so a browser can query the Meilisearch index
    directly: search only, on the listings index only, and only documents with
    `status = active`. The index holds no owner contact or payout data. 404
    `search_key_unavailable` when the embedded search backend is in use."""
    index = container.search
    url = container.settings.meilisearch_url
    if not isinstance(index, TenantTokens) or not url:
        raise NotFoundError(
            "search_key_unavailable", "direct search is not offered: the embedded backend is in use"
        )
    expires_at = now + KEY_LIFETIME
    response.headers["Cache-Control"] = "no-store"
    return SearchKeyPublic(
        key=index.tenant_token(expires_at),
        expires_at=expires_at,
        index_uid=_index_uid(index),
        host=url,
    )


def _index_uid(index: object) -> str:
    uid = getattr(index, "index_uid", None)
    return str(uid or "listings")
