"""Review request/response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.review import MAX_COMMENT, MAX_REASON, MAX_REPLY
from interfaces.http.schemas_common import SafeStr, Schema

Rating = Annotated[int, Field(ge=1, le=5, description="1 (worst) to 5 (best)")]
# Every category either side rates (CATEGORIES); which side rates which is the domain's rule.
Category = Literal[
    "accuracy", "care", "check_in", "cleanliness", "communication", "location", "rules", "value"
]


class ReviewCreate(Schema):
    rating: Rating
    comment: SafeStr = Field(min_length=1, max_length=MAX_COMMENT)
    category_ratings: dict[Category, Rating] | None = Field(
        default=None,
        description="The renter rates cleanliness, accuracy, communication, location, "
        "check_in and value; the owner rates communication, care and rules (each 1-5).",
    )


class ReplyCreate(Schema):
    text: SafeStr = Field(min_length=1, max_length=MAX_REPLY)


class HideRequest(Schema):
    reason: SafeStr = Field(min_length=1, max_length=MAX_REASON)


class ReviewPublic(BaseModel):
    id: UUID
    booking_id: UUID
    listing_id: UUID
    side: Literal["renter", "owner"] = Field(
        description="`renter`: the renter's review of the listing and its owner; `owner`: "
        "the owner's review of the renter"
    )
    reviewer_id: UUID
    reviewee_id: UUID
    rating: int
    comment: str
    category_ratings: dict[str, int]
    status: Literal["pending", "published", "hidden"] = Field(
        description="`pending` (seen only by its author) until both reviews are in or the "
        "window closes"
    )
    submitted_at: datetime
    published_at: datetime | None
    reply: str | None = Field(description="The owner's public reply")
    replied_at: datetime | None
    hidden_reason: str | None = Field(default=None, description="Admins' reason, when hidden")

    @classmethod
    def of(cls, review: dict[str, Any]) -> ReviewPublic:
        return cls.model_validate(review)


class BookingReviewsPublic(BaseModel):
    booking_id: UUID
    window_opens_at: datetime | None = Field(
        description="When the booking returned (checked out or ended); null before"
    )
    window_closes_at: datetime | None = Field(description="14 days after it opened")
    published_at: datetime | None
    reviews: list[ReviewPublic] = Field(
        description="The caller's own review at once; the other side's once published"
    )


class RatingSummary(BaseModel):
    count: int
    average: float = Field(description="Average rating to two decimals; 0 until reviewed")
    categories: dict[str, float] = Field(description="Average per category")
