"""Coupons: a code that takes money off a booking's quote, within limits, funded by someone.

The code is the identity: a coupon's id is uuid5 of its normalized (upper-case) code, so a
second coupon with the same code is a second `Created` event on the same stream, which the
event store refuses. Redemptions live on the coupon's own stream and are saved in the same
`save()` as the booking that uses them: two bookings racing for the last redemption conflict
on the coupon's version, so a limit of N is never exceeded.

A redemption is given back (`Released`) when its booking is declined, expires unpaid, fails
payment or is cancelled before it starts; a booking cancelled after its start keeps it.
Limits count redemptions not given back.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.coupon_terms import CouponTerms, check_applicable
from domain.errors import ConflictError, PermissionDenied, RuleViolation

COUPON_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/coupon")
_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{2,39}")


def normalize_code(code: str) -> str:
    """Codes compare case-insensitively: stored and looked up upper-case, trimmed."""
    normalized = code.strip().upper() if isinstance(code, str) else ""
    if not _CODE.fullmatch(normalized):
        raise RuleViolation(
            "bad_coupon_code", "a code is 3-40 letters, digits, '-' or '_', starting alphanumeric"
        )
    return normalized


def coupon_id_for(code: str) -> UUID:
    return uuid5(COUPON_NS, normalize_code(code))


class Coupon(Aggregate):
    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return coupon_id_for(code)

    @event("Created")
    def __init__(self, code: str, terms: dict[str, Any], by: UUID, role: str, at: datetime) -> None:
        self.code = normalize_code(code)
        self.terms = terms
        self.created_by = by
        self.created_at = self.updated_at = at
        self.active = True
        # booking id -> {user_id, discount, start_at, released}
        self.redemptions: dict[str, dict[str, Any]] = {}

    @classmethod
    def create(cls, code: str, terms: CouponTerms, by: UUID, role: str, at: datetime) -> Coupon:
        return cls(code=normalize_code(code), terms=terms.as_dict(), by=by, role=role, at=at)

    @property
    def conditions(self) -> CouponTerms:
        return CouponTerms.from_dict(self.terms)

    @property
    def redeemed(self) -> int:
        """Redemptions that count against the limits (not given back)."""
        return sum(1 for r in self.redemptions.values() if not r["released"])

    def redeemed_by(self, user_id: UUID) -> int:
        return sum(
            1
            for r in self.redemptions.values()
            if not r["released"] and r["user_id"] == str(user_id)
        )

    def check_usable(self, *, user_id: UUID, at: datetime, booking_id: UUID | None = None) -> None:
        """The coupon itself can still be used by this user now (scope is checked apart)."""
        if not self.active:
            raise RuleViolation("coupon_inactive", f"coupon {self.code} was deactivated")
        if booking_id is not None and str(booking_id) in self.redemptions:
            return  # a retried placement of the same booking
        terms = self.conditions
        check_applicable(terms, at=at, user_id=user_id)
        if terms.max_redemptions is not None and self.redeemed >= terms.max_redemptions:
            raise RuleViolation("coupon_exhausted", f"coupon {self.code} has been used up")
        if terms.per_user_limit is not None and self.redeemed_by(user_id) >= terms.per_user_limit:
            raise RuleViolation(
                "coupon_user_limit", f"you have used coupon {self.code} as often as allowed"
            )

    def redeem(
        self, booking_id: UUID, user_id: UUID, discount: int, start_at: datetime, at: datetime
    ) -> None:
        self.check_usable(user_id=user_id, at=at, booking_id=booking_id)
        if str(booking_id) not in self.redemptions:
            self._redeemed(booking_id, user_id, discount, start_at, at)

    @event("Redeemed")
    def _redeemed(
        self, booking_id: UUID, user_id: UUID, discount: int, start_at: datetime, at: datetime
    ) -> None:
        self.redemptions[str(booking_id)] = {
            "user_id": str(user_id),
            "discount": discount,
            "start_at": start_at.isoformat(),
            "released": False,
        }
        self.updated_at = at

    def release(self, booking_id: UUID, reason: str, at: datetime) -> bool:
        """Gives a booking's redemption back; False when there is none to give back."""
        known = self.redemptions.get(str(booking_id))
        if known is None or known["released"]:
            return False
        self._released(booking_id, reason, at)
        return True

    @event("Released")
    def _released(self, booking_id: UUID, reason: str, at: datetime) -> None:
        self.redemptions[str(booking_id)]["released"] = True
        self.updated_at = at

    def deactivate(self, by: UUID, role: str, at: datetime) -> None:
        if role != "admin" and by != self.created_by:
            raise PermissionDenied("not_coupon_owner", "only who created a coupon can end it")
        if not self.active:
            raise ConflictError("coupon_inactive", f"coupon {self.code} is already inactive")
        self._deactivated(by, role, at)

    @event("Deactivated")
    def _deactivated(self, by: UUID, role: str, at: datetime) -> None:
        self.active = False
        self.updated_at = at
