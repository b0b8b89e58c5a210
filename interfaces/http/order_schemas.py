"""Order request/response schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.order import MAX_ITEMS
from interfaces.http.booking_schemas import BookingPublic
from interfaces.http.schemas_common import SafeStr, Schema


class OrderItemCreate(Schema):
    listing_id: UUID
    start: SafeStr = Field(description="YYYY-MM-DD (night/day) or RFC 3339 (hour)")
    end: SafeStr = Field(description="Exclusive end, same format as start")
    quantity: int = Field(default=1, ge=1, le=10_000)
    guests: int | None = Field(
        default=None, ge=1, le=10_000, description="Defaults to the order's guests"
    )


class OrderCreate(Schema):
    items: list[OrderItemCreate] = Field(min_length=1, max_length=MAX_ITEMS)
    guests: int = Field(default=1, ge=1, le=10_000)
    coupon_code: SafeStr | None = Field(
        default=None,
        max_length=40,
        description="Redeemed once for the order; its discount is split across the items in scope",
    )


class OrderItemPublic(BaseModel):
    index: int = Field(description="The item's position in the placed order")
    booking: BookingPublic


class OrderPublic(BaseModel):
    id: UUID
    version: int
    renter_id: UUID
    status: str = Field(description="Derived from the items' statuses (see README, Orders)")
    guests: int
    items: list[OrderItemPublic] = Field(description="Owners see only their own items")
    quote: dict[str, Any] | None = Field(
        description="Per-item lines, one service fee, the total; renter and admins only"
    )
    cancelled: dict[str, Any] | None
    placed_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, described: dict[str, Any]) -> OrderPublic:
        order = described["order"]
        return cls(
            id=order.id,
            version=order.version,
            renter_id=order.renter_id,
            status=described["status"],
            guests=order.guests,
            items=[
                OrderItemPublic(index=i["index"], booking=BookingPublic.of(i["booking"]))
                for i in described["items"]
            ],
            quote=described["quote"],
            cancelled=order.cancelled,
            placed_at=order.placed_at,
            updated_at=order.updated_at,
        )


class OrderItemPaymentPublic(BaseModel):
    booking_id: UUID
    payment_id: UUID
    client_secret: str | None = Field(
        None, description="Always null: the order's one charge carries the client secret"
    )
    status: str
    amount: dict[str, Any]


class OrderPaymentPublic(BaseModel):
    order_id: UUID
    charge_id: UUID = Field(
        description="The order's ONE processor charge for the total (confirm it with "
        "`client_secret`; on the simulated gateway, `POST /dev/payments/{charge_id}/succeed`)"
    )
    client_secret: str | None
    status: str
    total: dict[str, Any]
    payments: list[OrderItemPaymentPublic] = Field(
        description="Each item's own payment: its share of the one charge, its deposit hold, "
        "its refunds and its owner's payout"
    )
