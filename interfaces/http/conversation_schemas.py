"""Conversation request/response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.conversation import MAX_PHOTOS, MAX_TEXT
from interfaces.http.schemas_common import SafeStr, Schema

MASKING = (
    "Email addresses and phone numbers are shown as `[email hidden]` / `[phone hidden]` in "
    "inquiries, and in a booking's conversation until the booking is confirmed."
)


class InquiryCreate(Schema):
    listing_id: UUID
    text: SafeStr = Field(min_length=1, max_length=MAX_TEXT)
    photo_ids: list[UUID] = Field(
        default_factory=list, max_length=MAX_PHOTOS, description="Media you uploaded."
    )


class MessageCreate(Schema):
    text: SafeStr = Field(min_length=1, max_length=MAX_TEXT)
    photo_ids: list[UUID] = Field(
        default_factory=list, max_length=MAX_PHOTOS, description="Media you uploaded."
    )


class ReadCreate(Schema):
    up_to: UUID | int = Field(
        description="The last message read: its id, or its position (1 = the first)."
    )


class MessagePublic(BaseModel):
    id: UUID
    conversation_id: UUID
    position: int = Field(description="1 for the conversation's first message, then 2, ...")
    sender_id: UUID
    recipient_id: UUID
    text: str = Field(description=MASKING)
    photo_ids: list[UUID]
    posted_at: datetime


class LastMessage(BaseModel):
    sender_id: UUID
    text: str | None


class ConversationPublic(BaseModel):
    id: UUID
    kind: Literal["inquiry", "booking"] = Field(
        description="`inquiry`: about a listing before booking; `booking`: of a booking"
    )
    listing_id: UUID
    booking_id: UUID | None
    renter_id: UUID
    owner_id: UUID
    masked: bool = Field(description=MASKING)
    message_count: int
    unread_count: int = Field(description="Messages to you after your read mark")
    last_message: LastMessage | None
    created_at: datetime
    last_activity_at: datetime


class InquiryPublic(BaseModel):
    """The inquiry's conversation and the message just posted (as written)."""

    id: UUID
    kind: Literal["inquiry", "booking"]
    listing_id: UUID
    booking_id: UUID | None
    renter_id: UUID
    owner_id: UUID
    message_count: int
    last_activity_at: datetime
    message: MessagePublic


class ReadMarkPublic(BaseModel):
    conversation_id: UUID
    up_to: int = Field(description="Your read mark: the position of the last message read")
