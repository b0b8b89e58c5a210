"""Calendar sync request/response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from domain.calendar_feed import MAX_FEED_NAME, MAX_URL, CalendarFeed
from interfaces.http.schemas_common import SafeStr, Schema


class CalendarExportPublic(BaseModel):
    token: str = Field(description="The secret of the export link; keep it private")
    path: str = Field(
        description="GET it (no sign-in): the listing's booked and blocked periods as iCal",
        examples=["/api/v1/listings/5f0c3d0e-8a4b-4c1e-9f6a-2b7d1e0c9a11/calendar.ics?token=q1w2"],
    )


class CalendarFeedCreate(Schema):
    url: SafeStr = Field(
        min_length=1,
        max_length=MAX_URL,
        description="An http(s) or webcal iCal URL (Airbnb, Booking.com, Google, ...)",
        examples=["https://www.airbnb.com/calendar/ical/123.ics?s=abc"],
    )
    name: SafeStr = Field(min_length=1, max_length=MAX_FEED_NAME, examples=["Airbnb"])


class FeedConflictPublic(BaseModel):
    """An external event overlapping a Rentbook booking: its free part is blocked, the
    overlap is left to the owner to resolve."""

    uid: str
    summary: str
    start: str = Field(description="As the feed gave it: a date, or a date-time with offset")
    end: str
    booking_ids: list[str] = Field(description="The Rentbook bookings it overlaps")
    first_conflict: str = Field(description="The first overlapping night/day (or slot)")


class CalendarFeedPublic(BaseModel):
    id: str
    listing_id: str
    url: str
    name: str
    created_at: datetime
    status: str = Field(description="pending | ok | not_modified | error", examples=["ok"])
    last_error: str | None = None
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    next_fetch_at: datetime | None = None
    event_count: int = Field(description="Events (occurrences) in the import window last read")
    block_count: int = Field(description="Calendar blocks the feed holds now")
    conflicts: list[FeedConflictPublic]

    @classmethod
    def of(cls, fields: dict[str, Any]) -> CalendarFeedPublic:
        return cls.model_validate(fields)

    @classmethod
    def of_feed(cls, feed: CalendarFeed) -> CalendarFeedPublic:
        return cls(
            id=str(feed.id),
            listing_id=str(feed.listing_id),
            url=feed.url,
            name=feed.name,
            created_at=feed.created_at,
            status=feed.status,
            last_error=feed.last_error,
            last_fetch_at=feed.last_fetch_at,
            last_success_at=feed.last_success_at,
            next_fetch_at=feed.next_fetch_at,
            event_count=feed.event_count,
            block_count=len(feed.blocks),
            conflicts=[FeedConflictPublic.model_validate(c) for c in feed.conflicts],
        )


class CalendarFeedsPublic(BaseModel):
    data: list[CalendarFeedPublic]
