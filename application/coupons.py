"""Coupon use cases: create, deactivate, price a quote with a code, give redemptions back.

Booking placement (application/bookings.py) prices its quote through `Coupons.price` and
saves the coupon, with its new redemption, in the same `record(calendar, booking, coupon)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.context import Actor
from application.retry import retry_on_conflict
from application.store import EventStore
from domain.booking import Booking
from domain.coupon import Coupon, coupon_id_for
from domain.coupon_terms import (
    CouponTerms,
    Purchase,
    apply_to_quote,
    check_scope,
    discount_for,
)
from domain.errors import ConflictError, NotFoundError, PermissionDenied, RuleViolation
from domain.listing import Listing
from domain.pricing import Quote

# Whether a renter already has a booking that went ahead (for first-booking coupons).
BookingHistory = Callable[[UUID], bool]

WELCOME_PERCENT_BP = 1000  # 10% off a first stay, the platform pays
WELCOME_VALIDITY = timedelta(days=30)
WELCOME_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://rentbook.dev/welcome-coupon")


def welcome_code(user_id: UUID) -> str:
    """One code per user, derived from the id: a retried job finds the coupon it made."""
    return f"WELCOME-{uuid.uuid5(WELCOME_NS, str(user_id)).hex[:12].upper()}"


def _never_booked(_renter_id: UUID) -> bool:
    return False


class Coupons:
    def __init__(self, store: EventStore, *, has_booked: BookingHistory = _never_booked) -> None:
        self.store = store
        self.has_booked = has_booked

    # -- commands ------------------------------------------------------------------------

    def create(self, actor: Actor, code: str, terms: CouponTerms, at: datetime) -> tuple[UUID, int]:
        """An admin's coupon (any funder, any scope), or an owner's: owner-funded and for
        their own listings only. 409 `coupon_code_taken` when the code exists, whatever its
        case, even when two creations race."""
        if actor.role not in ("admin", "system"):
            self._check_owner_terms(actor, terms)
        coupon = Coupon.create(code, terms, actor.id, actor.role, at)
        if self.store.exists(coupon.id):
            raise _taken(coupon.code)
        try:
            return coupon.id, self.store.record(coupon)
        except IntegrityError:
            raise _taken(coupon.code) from None

    def _check_owner_terms(self, actor: Actor, terms: CouponTerms) -> None:
        if terms.funded_by != "owner" or terms.owner_id != actor.id:
            raise PermissionDenied("owner_funded_only", "an owner's coupon is funded by the owner")
        if terms.user_id is not None:
            raise PermissionDenied("not_admin", "only admins issue personal coupons")
        for listing_id in terms.listing_ids:
            listing = self.store.load(listing_id, "listing")
            if not isinstance(listing, Listing) or listing.owner_id != actor.id:
                raise PermissionDenied("not_owner", f"listing {listing_id} is not yours")

    def deactivate(self, actor: Actor, coupon_id: UUID, at: datetime) -> int:
        def attempt() -> int:
            coupon = self.get(coupon_id)
            coupon.deactivate(actor.id, actor.role, at)
            return self.store.record(coupon)

        return retry_on_conflict(attempt)

    def issue_welcome(self, user_id: UUID, registered_at: datetime) -> UUID:
        """The sign-up coupon: single use, for this user only, 30 days from the sign-up.
        Exactly once per user: the code (and so the id) comes from the user id."""
        code = welcome_code(user_id)
        if self.store.exists(coupon_id_for(code)):
            return coupon_id_for(code)
        terms = CouponTerms(
            kind="percent",
            percent_bp=WELCOME_PERCENT_BP,
            funded_by="platform",
            valid_until=registered_at + WELCOME_VALIDITY,
            max_redemptions=1,
            per_user_limit=1,
            user_id=user_id,
        )
        try:
            return self.create(Actor.system(), code, terms, registered_at)[0]
        except ConflictError:  # a retry racing the first attempt: it is there
            return coupon_id_for(code)

    # -- pricing and redemptions ---------------------------------------------------------

    def price(
        self,
        code: str,
        listing: Listing,
        q: Quote,
        *,
        renter_id: UUID,
        at: datetime,
        booking_id: UUID | None = None,
    ) -> tuple[Quote, Coupon]:
        """The quote with the coupon applied, and the coupon to redeem; 422 with a precise
        code (`coupon_unknown`, `coupon_expired`, `coupon_exhausted`, ...) otherwise."""
        coupon = self.find(code)
        coupon.check_usable(user_id=renter_id, at=at, booking_id=booking_id)
        terms = coupon.conditions
        first = terms.scope != "first_booking" or not self.has_booked(renter_id)
        category = str(listing.spec.get("category", ""))
        check_scope(terms, Purchase(listing.id, listing.owner_id, category, first), q)
        discount = discount_for(terms, q)
        return apply_to_quote(q, coupon.code, discount, terms.funded_by), coupon

    def release_for(self, booking: Booking, reason: str, at: datetime) -> int:
        """Gives back the redemption of a booking that did not go ahead; 0 if none."""
        code = booking.quote.get("coupon_code")
        if not code:
            return 0

        def attempt() -> int:
            coupon = self.get(coupon_id_for(code))
            return self.store.record(coupon) if coupon.release(booking.id, reason, at) else 0

        return retry_on_conflict(attempt)

    # -- queries -------------------------------------------------------------------------

    def find(self, code: str) -> Coupon:
        try:
            coupon_id = coupon_id_for(code)
        except RuleViolation:
            raise RuleViolation("coupon_unknown", "no coupon has that code") from None
        if not self.store.exists(coupon_id):
            raise RuleViolation("coupon_unknown", f"no coupon has the code {code.strip()!r}")
        return self.get(coupon_id)

    def get(self, coupon_id: UUID, *, viewer: Actor | None = None) -> Coupon:
        coupon = self.store.load(coupon_id, "coupon")
        if not isinstance(coupon, Coupon):
            raise NotFoundError("coupon_not_found", f"coupon {coupon_id} not found")
        if viewer is not None and viewer.role != "admin" and coupon.created_by != viewer.id:
            raise NotFoundError("coupon_not_found", f"coupon {coupon_id} not found")
        return coupon


def _taken(code: str) -> ConflictError:
    return ConflictError("coupon_code_taken", f"a coupon with the code {code} exists")


def summary(coupon: Coupon) -> dict[str, Any]:
    """A coupon as API clients see it (the list comes from the coupons view)."""
    return {
        "id": coupon.id,
        "code": coupon.code,
        "active": coupon.active,
        "terms": coupon.terms,
        "created_by": coupon.created_by,
        "created_at": coupon.created_at,
        "redeemed": coupon.redeemed,
        "released": sum(1 for r in coupon.redemptions.values() if r["released"]),
        "version": coupon.version,
    }
