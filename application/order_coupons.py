"""Coupons on orders: price a basket with a code, and give an order's redemption back.

An order redeems a coupon ONCE, keyed by the order id on the coupon's stream, and the coupon
is saved in the order's one `store.record(...)` with every hold and item booking: orders
racing for a coupon's last redemptions conflict on the coupon's version, so a limit of N is
never exceeded, and a refused order (unavailable items, a coupon used up meanwhile) saves
nothing, so it redeems nothing. The split of the discount is in domain/order_coupon.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from application.coupons import Coupons
from application.retry import retry_on_conflict
from domain import booking as b
from domain.booking import Booking
from domain.coupon import Coupon, coupon_id_for
from domain.coupon_terms import Purchase, check_scope
from domain.errors import RuleViolation
from domain.listing import Listing
from domain.order import Order
from domain.order_coupon import apply_to_basket
from domain.pricing import Quote

# An item out of the coupon's scope is left alone (not an error for the whole order).
_OUT_OF_SCOPE = frozenset({"coupon_not_applicable", "coupon_first_booking_only"})
_ENDED = frozenset({b.CANCELLED, b.REFUNDED})


def price_basket(
    coupons: Coupons,
    code: str,
    listings: list[Listing],
    quotes: list[dict[str, Any]],
    *,
    renter_id: UUID,
    at: datetime,
    order_id: UUID,
) -> tuple[list[dict[str, Any]], Coupon, int]:
    """The item quotes with their shares of the coupon, the coupon to redeem and the
    order's discount; 422 `coupon_*` when it does not apply to any item."""
    coupon = coupons.find(code)
    coupon.check_usable(user_id=renter_id, at=at, booking_id=order_id)
    terms = coupon.conditions
    first = terms.scope != "first_booking" or not coupons.has_booked(renter_id)
    # The minimum subtotal is the basket's (in apply_to_basket), not each item's.
    per_item = replace(terms, min_subtotal=0)
    in_scope: list[bool] = []
    refusal: RuleViolation | None = None
    for listing, q in zip(listings, quotes, strict=True):
        category = str(listing.spec.get("category", ""))
        purchase = Purchase(listing.id, listing.owner_id, category, first)
        try:
            check_scope(per_item, purchase, Quote.from_dict(q))
        except RuleViolation as error:
            if error.code not in _OUT_OF_SCOPE:
                raise
            refusal = refusal or error
            in_scope.append(False)
        else:
            in_scope.append(True)
    if not any(in_scope):
        assert refusal is not None
        raise refusal
    priced, discount = apply_to_basket(terms, coupon.code, quotes, in_scope)
    return priced, coupon, discount


def release_for_order(coupons: Coupons, order_id: UUID, reason: str, at: datetime) -> int:
    """Gives an order's redemption back once every item has ended (declined, expired,
    payment failed, cancelled) and none of them ended after the order's first item began:
    a whole order that did not go ahead. A partly cancelled order, or one cancelled once
    under way, keeps it. Idempotent; 0 when there is nothing to give back."""
    store = coupons.store
    order = store.load(order_id, "order")
    if not isinstance(order, Order) or not order.quote.get("coupon_code"):
        return 0
    bookings = [store.load(booking_id, "booking") for booking_id in order.booking_ids]
    items = [bk for bk in bookings if isinstance(bk, Booking)]
    if any(bk.status not in _ENDED for bk in items):
        return 0
    first_start = min(bk.start_at for bk in items)
    if max(bk.updated_at for bk in items) >= first_start:
        return 0  # ended once under way: the coupon was used
    code = str(order.quote["coupon_code"])

    def attempt() -> int:
        coupon = coupons.get(coupon_id_for(code))
        return store.record(coupon) if coupon.release(order_id, reason, at) else 0

    return retry_on_conflict(attempt)
