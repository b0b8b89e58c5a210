"""A coupon on an order: one discount for the basket, allocated to the item bookings.

The coupon applies to the items in its scope (owner, category, listing, first booking; the
others are left alone, and an order with no item in scope is refused). The minimum subtotal
and a percent are taken on the in-scope items' subtotals together; a fixed amount comes off
once per order, not per item. The discount is capped, as for one booking, at the in-scope
subtotal and at what its funder gives up (each item's owner payout, or the platform's take
on it).

Allocation follows the order's one service fee: the discount is split across the in-scope
items in proportion to their subtotals (largest remainder), with no item's part over its own
cap (what a capped item cannot take goes to the others). Each item booking stores its share
as its quote's `coupon_discount` (with the booking's negative `coupon` line), so per-booking
payments, refunds, payouts and ledger entries (PromotionNoted/PromotionFunded when the
platform funds it) derive from each booking's quote exactly as for a single booking; the
parts sum to the order's discount to the minor unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from domain.coupon_terms import CouponTerms, apply_to_quote, discount_for
from domain.errors import RuleViolation
from domain.money import round_half_up
from domain.order import allocate
from domain.pricing import FULL_BP, Quote


def allocate_capped(total: int, weights: Sequence[int], caps: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights`, no part over its cap; the parts sum to
    `total` (which must not exceed the caps' sum). Capped parts are fixed and the rest is
    split again among the others until every part fits."""
    if total > sum(caps):
        raise ValueError("the total exceeds what the parts can take")
    parts = [0] * len(weights)
    open_ = [i for i in range(len(weights)) if caps[i] > 0]
    left = total
    while left > 0 and open_:
        shares = allocate(left, [weights[i] for i in open_])
        over = [i for i, s in zip(open_, shares, strict=True) if s >= caps[i]]
        if not over:
            for i, s in zip(open_, shares, strict=True):
                parts[i] = s
            return parts
        for i in over:
            parts[i] = caps[i]
            left -= caps[i]
        open_ = [i for i in open_ if i not in over]
    return parts


def basket_discount(terms: CouponTerms, quotes: Sequence[Quote]) -> int:
    """The order's discount on its in-scope item quotes (already checked in scope)."""
    subtotal = sum(q.subtotal for q in quotes)
    if subtotal < terms.min_subtotal:
        raise RuleViolation(
            "coupon_minimum_not_met", f"the coupon needs a subtotal of {terms.min_subtotal}"
        )
    raw = (
        round_half_up(subtotal * terms.percent_bp, FULL_BP)
        if terms.kind == "percent"
        else terms.amount
    )
    return max(0, min(raw, sum(item_cap(terms, q) for q in quotes)))


def item_cap(terms: CouponTerms, q: Quote) -> int:
    """The most one item can take: `discount_for` with an unbounded amount."""
    unbounded = replace(terms, kind="fixed", amount=q.subtotal + q.total + 1, currency=q.currency)
    return discount_for(unbounded, q)


def apply_to_basket(
    terms: CouponTerms, code: str, quotes: list[dict[str, Any]], in_scope: Sequence[bool]
) -> tuple[list[dict[str, Any]], int]:
    """The item quotes with their shares of the discount, and the order's discount."""
    scoped = [Quote.from_dict(q) for q, s in zip(quotes, in_scope, strict=True) if s]
    discount = basket_discount(terms, scoped)
    if discount <= 0:
        raise RuleViolation("coupon_not_applicable", "the coupon takes nothing off this order")
    parts = iter(
        allocate_capped(
            discount, [q.subtotal for q in scoped], [item_cap(terms, q) for q in scoped]
        )
    )
    priced = []
    for q, scope in zip(quotes, in_scope, strict=True):
        part = next(parts) if scope else 0
        if part:
            q = apply_to_quote(Quote.from_dict(q), code, part, terms.funded_by).as_dict()
        priced.append(q)
    return priced, discount


def with_coupon(
    order_quote: dict[str, Any], code: str, discount: int, funded_by: str
) -> dict[str, Any]:
    """The order's quote with its coupon line (its total already sums the item totals)."""
    line = {"code": "coupon", "label": f"Coupon {code}", "amount": -discount}
    return {
        **order_quote,
        "coupon_code": code,
        "coupon_discount": discount,
        "coupon_funded_by": funded_by,
        "line_items": [*order_quote["line_items"], line],
    }
