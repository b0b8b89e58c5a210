"""Wishlist request/response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.wishlist import MAX_NAME
from interfaces.http.schemas_common import MoneyPublic, SafeStr, Schema


class WishlistCreate(Schema):
    name: SafeStr = Field(min_length=1, max_length=MAX_NAME, examples=["Summer in Lisbon"])


class WishlistUpdate(Schema):
    name: SafeStr = Field(min_length=1, max_length=MAX_NAME)


class ListingSummaryPublic(BaseModel):
    """What a wishlist shows of a listing (see `GET /listings/{id}` for the rest)."""

    id: str
    title: str
    category: str
    city: str
    country: str
    status: str = Field(description="Only `active` listings can be booked")
    booking_unit: str
    price: MoneyPublic = Field(description="Base price of one unit per night, day or hour")
    cover_thumbnail_url: str | None = None


class WishlistItemPublic(BaseModel):
    listing_id: UUID
    added_at: datetime
    listing: ListingSummaryPublic | None = Field(
        description="Null for a moment after the listing was created, until its view catches up"
    )


class WishlistPublic(BaseModel):
    id: UUID
    name: str
    created_at: datetime
    updated_at: datetime | None = None
    listings: list[WishlistItemPublic] = Field(description="In the order they were added")
    shared: bool = Field(description="Whether the share link currently works")
    share_token: str | None = Field(
        default=None, description="The read-only link's token (null when not shared)"
    )
    share_path: str | None = Field(
        default=None,
        description="GET this (no sign-in needed) to read the wishlist",
        examples=["/api/v1/wishlists/shared/q1w2e3"],
    )

    @classmethod
    def of(cls, fields: dict[str, Any]) -> WishlistPublic:
        return cls.model_validate(fields)


class SharedWishlistPublic(BaseModel):
    """A wishlist as its share link shows it: no owner, no token."""

    id: UUID
    name: str
    listings: list[WishlistItemPublic]
