"""Notification request/response schemas."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from domain.notifications import CHANNELS, KINDS
from interfaces.http.positions import MAX_POSITION
from interfaces.http.schemas_common import Schema

MAX_IDS = 100


class NotificationPublic(BaseModel):
    id: UUID
    kind: str = Field(description=f"One of: {', '.join(KINDS)}")
    position: int = Field(description="Log position of the event; `up_to` marks read by it")
    created_at: str = Field(description="When the event happened (RFC 3339, UTC)")
    read: bool = Field(description="Marked read by `POST /me/notifications/read`")
    data: dict[str, Any] = Field(description="What happened: booking, listing, amounts...")


class NotificationsPage(BaseModel):
    data: list[NotificationPublic]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last"
    )
    unread_count: int = Field(description="Unread notifications in all (not only this page)")


class ReadRequest(Schema):
    """Either `up_to` (every notification at or below that position is read) or `ids`."""

    # Bounded like every log position: a larger one is a 422, not a store overflow (500).
    up_to: int | None = Field(default=None, ge=0, le=MAX_POSITION)
    ids: list[UUID] | None = Field(default=None, max_length=MAX_IDS)

    @model_validator(mode="after")
    def _one_of(self) -> ReadRequest:
        if self.up_to is None and not self.ids:
            raise ValueError("give up_to or ids")
        return self


class ReadResult(BaseModel):
    unread_count: int = Field(description="Unread notifications left")


class PreferencePublic(BaseModel):
    kind: str = Field(description=f"One of: {', '.join(KINDS)}")
    channel: Literal["in_app", "email"]
    enabled: bool
    locked: bool = Field(description="Transactional email (receipts, security): always on")


class PreferenceChange(Schema):
    kind: str = Field(max_length=40, description=f"One of: {', '.join(KINDS)}")
    channel: Literal["in_app", "email"] = Field(description=f"One of {', '.join(CHANNELS)}")
    enabled: bool


class PreferencesUpdate(Schema):
    preferences: list[PreferenceChange] = Field(min_length=1, max_length=200)


class PreferencesPublic(BaseModel):
    preferences: list[PreferencePublic]
