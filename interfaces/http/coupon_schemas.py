"""Coupon request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.coupon_terms import CouponTerms
from domain.errors import RuleViolation
from interfaces.http.schemas_common import MoneyIn, SafeStr, Schema


class CouponCreate(Schema):
    code: SafeStr = Field(min_length=3, max_length=40, examples=["SUMMER25"])
    kind: Literal["percent", "fixed"]
    percent_bp: int | None = Field(
        default=None, ge=1, le=10_000, description="Percent coupons: basis points (2500 = 25%)"
    )
    amount: MoneyIn | None = Field(default=None, description="Fixed coupons: the amount off")
    min_subtotal: MoneyIn | None = Field(default=None, description="The rental subtotal needed")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = Field(default=None, ge=1, description="Total; none = no limit")
    per_user_limit: int | None = Field(default=1, ge=1, description="Per renter; none = no limit")
    scope: Literal["all", "category", "listing", "first_booking"] = "all"
    category: SafeStr | None = Field(default=None, max_length=40)
    listing_ids: list[UUID] = Field(default_factory=list, max_length=500)

    def terms(self, *, funded_by: str, owner_id: UUID | None) -> CouponTerms:
        currencies = {m.currency for m in (self.amount, self.min_subtotal) if m is not None}
        return CouponTerms(
            kind=self.kind,
            funded_by=funded_by,
            percent_bp=self.percent_bp or 0,
            amount=self.amount.amount if self.amount else 0,
            currency=_one_currency(currencies),
            min_subtotal=self.min_subtotal.amount if self.min_subtotal else 0,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            max_redemptions=self.max_redemptions,
            per_user_limit=self.per_user_limit,
            scope=self.scope,
            category=self.category,
            listing_ids=tuple(self.listing_ids),
            owner_id=owner_id,
        )


def _one_currency(currencies: set[str]) -> str | None:
    if len(currencies) > 1:
        raise RuleViolation("bad_coupon", "the amount and the minimum are in one currency")
    return currencies.pop() if currencies else None


class AdminCouponCreate(CouponCreate):
    funded_by: Literal["platform", "owner"] = "platform"
    owner_id: UUID | None = Field(
        default=None, description="Owner-funded: whose listings (and payout) it is for"
    )


class CouponPublic(BaseModel):
    id: UUID
    code: str
    active: bool
    funded_by: str
    terms: dict[str, Any]
    redeemed: int = Field(description="Redemptions that count (not given back)")
    released: int = Field(description="Redemptions given back by cancellations")
    created_by: UUID
    created_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> CouponPublic:
        return cls(
            id=row["id"],
            code=row["code"],
            active=row["active"],
            funded_by=row["terms"]["funded_by"],
            terms=row["terms"],
            redeemed=row["redeemed"],
            released=row.get("released", 0),
            created_by=row["created_by"],
            created_at=row["created_at"],
        )
