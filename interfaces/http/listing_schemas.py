"""Listing request and response schemas (separate from the domain's events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from domain.listing import Listing
from domain.listing_spec import ListingSpec, Location
from domain.periods import validate_timezone
from interfaces.http.media_schemas import PhotoPublic
from interfaces.http.schemas_common import MoneyPublic, SafeStr, Schema


class LocationCreate(Location):
    """A new listing's location; without `timezone`, it is taken from `lat`/`lng`."""

    timezone: str | None = Field(  # type: ignore[assignment]
        default=None, description="IANA time zone, e.g. Europe/Lisbon; defaults from lat/lng"
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:  # type: ignore[override]
        return None if v is None else validate_timezone(v)


class ListingCreate(ListingSpec):
    """A new listing; it starts in `draft`. `category_data` is validated per category.
    `location.timezone` defaults from the coordinates when left out."""

    location: LocationCreate


# Every field optional: a PATCH sends only what changes; the merged whole is validated.
ListingUpdate: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ListingUpdate",
    __config__=ConfigDict(extra="forbid"),
    **{
        name: (Optional[field.annotation], None)  # noqa: UP045 - runtime type construction
        for name, field in ListingSpec.model_fields.items()
    },
)


class ListingPublic(BaseModel):
    id: UUID
    owner_id: UUID
    status: str
    status_reason: str
    version: int
    created_at: datetime
    updated_at: datetime
    price_overrides: dict[str, int]
    listing: dict[str, Any] = Field(description="The listing's content, as in ListingCreate.")
    photos: list[PhotoPublic] = Field(default_factory=list, description="In display order")
    cover_photo_id: UUID | None = None
    rating: float = Field(default=0.0, description="Average review rating; 0 until reviewed")
    review_count: int = 0
    category_ratings: dict[str, float] = Field(
        default_factory=dict, description="Average per review category"
    )

    @classmethod
    def of(cls, listing: Listing) -> ListingPublic:
        return cls(
            id=listing.id,
            owner_id=listing.owner_id,
            status=listing.status,
            status_reason=listing.status_reason,
            version=listing.version,
            created_at=listing.created_at,
            updated_at=listing.updated_at,
            price_overrides=dict(sorted(listing.price_overrides.items())),
            listing=listing.spec,
            photos=[PhotoPublic.of(p) for p in listing.spec.get("photos", [])],
            cover_photo_id=listing.spec.get("cover_photo_id"),
        )


class ReasonIn(Schema):
    reason: SafeStr = Field(min_length=1, max_length=2000)


class BlockCreate(Schema):
    start: SafeStr = Field(description="YYYY-MM-DD (night/day) or RFC 3339 (hour)")
    end: SafeStr = Field(description="Exclusive end, same format as start")
    reason: SafeStr = Field(default="", max_length=500)


class BlockPublic(BaseModel):
    id: UUID
    listing_id: UUID
    start: str
    end: str
    reason: str


class PriceIn(Schema):
    amount: int = Field(ge=0, le=10**13, description="Minor units in the listing's currency")


class QuoteRequest(Schema):
    start: SafeStr
    end: SafeStr
    quantity: int = Field(default=1, ge=1, le=10_000)
    guests: int = Field(default=1, ge=1, le=10_000)
    coupon_code: SafeStr | None = Field(default=None, max_length=40, description="A coupon")


class CalendarDay(BaseModel):
    date: str | None = None
    start: str | None = None
    open: bool | None = Field(default=None, description="Hourly listings: within opening hours")
    available_units: int
    held: int
    reserved: int
    blocked: bool
    price: MoneyPublic
