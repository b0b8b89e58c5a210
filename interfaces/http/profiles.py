"""Public profiles: what anyone may see of a user, read from the profiles view."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from domain.errors import NotFoundError
from interfaces.http.deps import ContainerDep
from interfaces.http.etag import set_etag
from interfaces.http.positions import min_position
from interfaces.http.schemas_common import problem_responses
from projections.profiles import read_profile
from projections.reviews import user_review_summary

router = APIRouter(tags=["identity"])

MEDIA_PATH = "/api/v1/media"  # the media feature serves /media/{media_id}/{size}


class AvatarPublic(BaseModel):
    thumb: str = Field(description="≤ 400 px on the long side.")
    display: str = Field(description="≤ 1600 px on the long side.")

    @classmethod
    def of(cls, media_id: UUID) -> AvatarPublic:
        return cls(
            thumb=f"{MEDIA_PATH}/{media_id}/thumb", display=f"{MEDIA_PATH}/{media_id}/display"
        )


class ReviewSummaryPublic(BaseModel):
    count: int
    average: float = Field(description="Average rating 1-5; 0 when there are none.")
    categories: dict[str, float] = Field(description="Average per review category.")


class ProfilePublic(BaseModel):
    id: UUID
    name: str
    avatar: AvatarPublic | None
    bio: str
    languages: list[str] = Field(description="ISO 639-1 codes.")
    member_since: datetime
    verified: list[str] = Field(description="Badges of what was verified: `email`.")
    response_rate: float | None = Field(
        description="Of the booking requests this user received as an owner and that were "
        "settled, and of the inquiries renters sent them, the share answered in time (a "
        "request approved or declined before it expired, an inquiry's first reply within "
        "24 h; an inquiry unanswered for 24 h counts as missed); null when there were none.",
        ge=0,
        le=1,
    )
    median_response_seconds: int | None = Field(
        description="Median time to answer a booking request or to first reply to an "
        "inquiry; null when none was answered."
    )
    reviews: ReviewSummaryPublic = Field(
        description="Published, not hidden reviews this user received as renter or owner."
    )
    version: int


@router.get(
    "/users/{user_id}",
    dependencies=[Depends(min_position("profiles", "reviews"))],
    responses=problem_responses(404),
)
def public_profile(user_id: UUID, response: Response, container: ContainerDep) -> ProfilePublic:
    """A user's public profile: name, avatar, bio, languages, member since, verified
    badges, the reviews they received and, for owners, how often and how fast they answer
    booking requests. Never the email or phone. 404 for unknown and suspended users."""
    tables = container.runner.tables("profiles")
    with container.views.connect() as conn:
        row = read_profile(conn, tables, user_id, container.clock.now())
        reviews = user_review_summary(conn, container.runner.tables("reviews"), user_id)
    if row is None:
        raise NotFoundError("user_not_found", f"user {user_id} not found")
    set_etag(response, row["version"])
    return ProfilePublic(
        id=row["id"],
        name=row["name"],
        avatar=AvatarPublic.of(row["avatar_media_id"]) if row["avatar_media_id"] else None,
        bio=row["bio"],
        languages=row["languages"],
        member_since=row["member_since"],
        verified=["email"] if row["email_verified"] else [],
        response_rate=row["response_rate"],
        median_response_seconds=row["median_response_seconds"],
        reviews=ReviewSummaryPublic(**reviews),
        version=row["version"],
    )
