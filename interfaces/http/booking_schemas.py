"""Booking and payment request/response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.booking import Booking
from interfaces.http.schemas_common import SafeStr, Schema
from interfaces.http.stay_schemas import StayEventPublic, stay_events_public


class BookingCreate(Schema):
    listing_id: UUID
    start: SafeStr = Field(description="YYYY-MM-DD (night/day) or RFC 3339 (hour)")
    end: SafeStr = Field(description="Exclusive end, same format as start")
    quantity: int = Field(default=1, ge=1, le=10_000)
    guests: int = Field(default=1, ge=1, le=10_000)
    message: SafeStr = Field(default="", max_length=2000)
    coupon_code: SafeStr | None = Field(
        default=None, max_length=40, description="A coupon: its discount is a quote line"
    )


class BookingPublic(BaseModel):
    id: UUID
    version: int
    listing_id: UUID
    owner_id: UUID
    renter_id: UUID
    status: str
    status_reason: str
    unit: str
    start: str
    end: str
    timezone: str
    quantity: int
    guests: int
    message: str
    quote: dict[str, Any]
    cancellation_policy: dict[str, Any]
    deposit: dict[str, Any] | None
    expires_at: str | None
    deadlines: dict[str, str | None]
    payment_id: UUID | None
    refund_due: dict[str, Any] | None
    placed_at: datetime
    updated_at: datetime
    check_ins: dict[str, StayEventPublic] = Field(
        description="Per side (renter, owner): when it checked in, and its condition report"
    )
    check_outs: dict[str, StayEventPublic] = Field(
        description="Per side (renter, owner): when it checked out, and its condition report"
    )

    @classmethod
    def of(cls, b: Booking) -> BookingPublic:
        return cls(
            **{
                **booking_fields(b),
                "deadlines": dict(b.deadlines),
                "check_ins": stay_events_public(b.check_ins),
                "check_outs": stay_events_public(b.check_outs),
            }
        )


def booking_fields(b: Booking) -> dict[str, Any]:
    """`BookingPublic`'s fields as plain values, in its order; the stay records empty (the
    model and the orjson answer of `booking_json.booking_body` both start from these)."""
    return {
        "id": b.id,
        "version": b.version,
        "listing_id": b.listing_id,
        "owner_id": b.owner_id,
        "renter_id": b.renter_id,
        "status": b.status,
        "status_reason": b.status_reason,
        "unit": b.unit,
        "start": b.start,
        "end": b.end,
        "timezone": b.timezone,
        "quantity": b.quantity,
        "guests": b.guests,
        "message": b.message,
        "quote": b.quote,
        "cancellation_policy": b.policy,
        "deposit": b.deposit,
        "expires_at": b.deadlines.get("expires_at"),
        "deadlines": b.deadlines,
        "payment_id": b.payment_id,
        "refund_due": b.refund_due,
        "placed_at": b.placed_at,
        "updated_at": b.updated_at,
        "check_ins": {},
        "check_outs": {},
    }


class PaymentPublic(BaseModel):
    payment_id: UUID
    client_secret: str | None
    status: str


PaymentStep = Literal["charge", "deposit"]


class FailIn(Schema):
    reason: SafeStr = Field(default="card_declined", max_length=200)
    step: PaymentStep = Field("charge", description="Which card step the network declines.")


class SettleIn(Schema):
    step: PaymentStep | None = Field(
        None, description="Settle only this step; absent: every step still pending."
    )


RoleQuery = Literal["renter", "owner"]
