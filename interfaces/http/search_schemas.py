"""Search API schemas: hits, pages with facets, and browser search keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from application.search_queries import SearchPage, hit_fields
from interfaces.http.schemas_common import MoneyPublic


class GeoPublic(BaseModel):
    lat: float = Field(examples=[38.7223])
    lng: float = Field(examples=[-9.1393])


class SearchHitPublic(BaseModel):
    """A listing as search shows it (see `GET /listings/{id}` for the whole of it)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(examples=["5f0c3d0e-8a4b-4c1e-9f6a-2b7d1e0c9a11"])
    title: str
    category: str = Field(examples=["stay"])
    city: str = Field(examples=["Lisbon"])
    country: str = Field(description="ISO 3166-1 alpha-2", examples=["PT"])
    price: MoneyPublic = Field(description="Base price of one unit per night, day or hour")
    capacity: int = Field(description="Guests per unit")
    units: int = Field(description="Identical units the listing offers")
    amenities: list[str]
    booking_mode: str = Field(examples=["instant"])
    booking_unit: str = Field(examples=["night"])
    rating: float = Field(description="Average review rating, 0 until reviewed")
    review_count: int
    cover_thumbnail_url: str | None = Field(
        default=None, description="The cover photo's thumbnail (GET it), null without photos"
    )
    geo: GeoPublic = Field(alias="_geo", serialization_alias="_geo")
    distance_km: float | None = Field(
        default=None, description="From the lat/lng asked for, when one was given"
    )
    in_wishlist: bool = Field(
        default=False, description="In one of the signed-in user's wishlists (false when anonymous)"
    )

    @classmethod
    def of(cls, fields: dict[str, Any]) -> SearchHitPublic:
        return cls.model_validate(fields)


class PriceStats(BaseModel):
    min: int = Field(description="Lowest base price over all matches, minor units")
    max: int = Field(description="Highest base price over all matches, minor units")


class SearchFacets(BaseModel):
    category: dict[str, int] = Field(description="Matches per category", examples=[{"stay": 12}])
    amenities: dict[str, int] = Field(description="Matches per amenity", examples=[{"wifi": 9}])
    price_stats: PriceStats | None = None


class SearchResultsPublic(BaseModel):
    data: list[SearchHitPublic]
    total_estimate: int = Field(description="About how many listings match (at most 1,000)")
    facets: SearchFacets
    next_offset: int | None = Field(
        default=None,
        description="Pass as `offset` for the next page (null on the last one). With dates "
        "it can be more than offset + limit, as candidates that cannot be booked are skipped.",
    )

    @classmethod
    def of(cls, page: SearchPage) -> SearchResultsPublic:
        price_stats = PriceStats(**page.price_stats) if page.price_stats else None
        return cls(
            data=[SearchHitPublic.of(hit_fields(hit)) for hit in page.hits],
            total_estimate=page.total_estimate,
            facets=SearchFacets(
                category=page.facets.get("category", {}),
                amenities=page.facets.get("amenities", {}),
                price_stats=price_stats,
            ),
            next_offset=page.next_offset,
        )


class SearchKeyPublic(BaseModel):
    """A tenant token for querying Meilisearch directly from a browser."""

    key: str = Field(description="Send as `Authorization: Bearer <key>` to Meilisearch")
    expires_at: datetime
    index_uid: str = Field(examples=["listings"])
    host: str = Field(examples=["https://search.rentbook.example"])
