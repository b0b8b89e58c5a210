"""A coupon's terms and the pure rules that apply them to a quote.

The discount is taken off the rental subtotal (after any length-of-stay discount; never the
cleaning fee, the fees or the tax): a percent of it, rounded half up, or a fixed amount, and
never more than it. Who funds it decides who gives the money up:
- `owner`: the owner's payout drops by the discount (capped at the payout);
- `platform`: the owner is paid as without the coupon and the platform's take (service fee +
  commission + tax) pays for it, capped at that take, so a charge always covers the payout.
The renter's total drops by the discount, and the quote gains a negative `coupon` line, so
the lines still add up to the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import RuleViolation
from domain.money import round_half_up
from domain.pricing import FULL_BP, LineItem, Quote

KINDS = ("percent", "fixed")
SCOPES = ("all", "category", "listing", "first_booking")
FUNDERS = ("platform", "owner")


def _bad(detail: str) -> RuleViolation:
    return RuleViolation("bad_coupon", detail)


def _count(value: object, what: str, lo: int = 0) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < lo:
        raise _bad(f"{what} must be an integer >= {lo}")
    return value


@dataclass(frozen=True)
class CouponTerms:
    kind: str
    funded_by: str
    percent_bp: int = 0
    amount: int = 0
    currency: str | None = None
    min_subtotal: int = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int | None = None
    per_user_limit: int | None = None
    scope: str = "all"
    category: str | None = None
    listing_ids: tuple[UUID, ...] = ()
    owner_id: UUID | None = None  # an owner's coupon: only that owner's listings
    user_id: UUID | None = None  # a personal coupon (welcome): only this user

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise _bad(f"kind must be one of {', '.join(KINDS)}")
        if self.funded_by not in FUNDERS:
            raise _bad(f"funded_by must be one of {', '.join(FUNDERS)}")
        if self.kind == "percent" and not (
            isinstance(self.percent_bp, int) and 1 <= self.percent_bp <= FULL_BP
        ):
            raise _bad("a percent coupon takes percent_bp between 1 and 10000")
        if self.kind == "fixed" and (_count(self.amount, "amount", 1) is None or not self.currency):
            raise _bad("a fixed coupon takes a positive amount and its currency")
        if self.currency is not None and not (
            len(self.currency) == 3 and self.currency.isalpha() and self.currency.isupper()
        ):
            raise _bad(f"bad ISO 4217 currency {self.currency!r}")
        _count(self.min_subtotal, "min_subtotal")
        if self.min_subtotal and not self.currency:
            raise _bad("a minimum subtotal needs a currency")
        _count(self.max_redemptions, "max_redemptions", 1)
        _count(self.per_user_limit, "per_user_limit", 1)
        for instant in (self.valid_from, self.valid_until):
            if instant is not None and instant.tzinfo is None:
                raise _bad("validity instants carry a time zone")
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            raise _bad("a coupon must start being valid before it ends")
        if self.scope not in SCOPES:
            raise _bad(f"scope must be one of {', '.join(SCOPES)}")
        if self.scope == "category" and not self.category:
            raise _bad("a category coupon names its category")
        if self.scope == "listing" and not self.listing_ids:
            raise _bad("a listing coupon names its listings")
        if self.funded_by == "owner" and self.owner_id is None:
            raise _bad("an owner-funded coupon belongs to an owner")
        object.__setattr__(self, "listing_ids", tuple(self.listing_ids))

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("valid_from", "valid_until"):
            data[name] = data[name].isoformat() if data[name] else None
        for name in ("owner_id", "user_id"):
            data[name] = str(data[name]) if data[name] else None
        data["listing_ids"] = [str(i) for i in self.listing_ids]
        return data

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CouponTerms:
        data = dict(d)
        for name in ("valid_from", "valid_until"):
            data[name] = datetime.fromisoformat(data[name]) if data.get(name) else None
        for name in ("owner_id", "user_id"):
            data[name] = UUID(str(data[name])) if data.get(name) else None
        data["listing_ids"] = tuple(UUID(str(i)) for i in data.get("listing_ids", ()))
        return cls(**data)


def check_applicable(terms: CouponTerms, *, at: datetime, user_id: UUID) -> None:
    """The terms allow this user to use the coupon at this instant."""
    if terms.valid_from is not None and at < terms.valid_from:
        raise RuleViolation("coupon_not_yet_valid", "the coupon is not valid yet")
    if terms.valid_until is not None and at >= terms.valid_until:
        raise RuleViolation("coupon_expired", "the coupon has expired")
    if terms.user_id is not None and terms.user_id != user_id:
        raise RuleViolation("coupon_not_yours", "the coupon belongs to another user")


@dataclass(frozen=True)
class Purchase:
    """What the coupon is tried on: the listing and whether it is the renter's first booking."""

    listing_id: UUID
    owner_id: UUID
    category: str
    first_booking: bool


def check_scope(terms: CouponTerms, purchase: Purchase, q: Quote) -> None:
    if terms.owner_id is not None and purchase.owner_id != terms.owner_id:
        raise RuleViolation("coupon_not_applicable", "the coupon is for another owner's listings")
    if terms.scope == "category" and purchase.category != terms.category:
        raise RuleViolation("coupon_not_applicable", f"the coupon is for {terms.category} only")
    if terms.scope == "listing" and purchase.listing_id not in terms.listing_ids:
        raise RuleViolation("coupon_not_applicable", "the coupon is not for this listing")
    if terms.scope == "first_booking" and not purchase.first_booking:
        raise RuleViolation("coupon_first_booking_only", "the coupon is for a first booking")
    if terms.currency is not None and terms.currency != q.currency:
        raise RuleViolation("coupon_currency_mismatch", f"the coupon is in {terms.currency}")
    if q.subtotal < terms.min_subtotal:
        raise RuleViolation(
            "coupon_minimum_not_met", f"the coupon needs a subtotal of {terms.min_subtotal}"
        )


def discount_for(terms: CouponTerms, q: Quote) -> int:
    """The discount on this quote: never negative, never more than the subtotal, nor than
    what its funder gives up (the owner's payout, or the platform's take)."""
    if terms.kind == "percent":
        raw = round_half_up(q.subtotal * terms.percent_bp, FULL_BP)
    else:
        raw = terms.amount
    cap = q.owner_payout if terms.funded_by == "owner" else q.total - q.owner_payout
    return max(0, min(raw, q.subtotal, cap))


def apply_to_quote(q: Quote, code: str, discount: int, funded_by: str) -> Quote:
    """The quote with the coupon's line: the total drops; an owner-funded one lowers the
    owner's payout too."""
    if discount <= 0:
        raise RuleViolation("coupon_not_applicable", "the coupon takes nothing off this booking")
    line = LineItem("coupon", f"Coupon {code}", -discount)
    return replace(
        q,
        total=q.total - discount,
        owner_payout=q.owner_payout - (discount if funded_by == "owner" else 0),
        coupon_code=code,
        coupon_discount=discount,
        coupon_funded_by=funded_by,
        line_items=(*q.line_items, line),
    )
