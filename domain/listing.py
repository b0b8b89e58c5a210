"""Listing: the catalog entry, its rules and its review status.

draft → pending_review → active ↔ inactive; pending_review → rejected → (resubmit);
any → suspended (admin). Inventory lives in ListingCalendar.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import listing_upcasts
from domain.errors import InvalidTransition, PermissionDenied, RuleViolation
from domain.listing_spec import validate_spec
from domain.pricing import PricingRules
from domain.pricing_rules import pricing_rules_from_spec

DRAFT, PENDING_REVIEW, ACTIVE, INACTIVE = "draft", "pending_review", "active", "inactive"
REJECTED, SUSPENDED = "rejected", "suspended"
# Fields whose change would re-key the inventory or the money already quoted.
FROZEN_AFTER_DRAFT = ("booking_unit",)


class Listing(Aggregate):
    # v2: the spec's grace hours split into check-in and check-out (domain/listing_upcasts.py).
    # The class names stay: they are the stored topics.
    class_version = 2
    upcast_v1_v2 = staticmethod(listing_upcasts.listing_v1_v2)  # snapshots

    class Created(Aggregate.Created):
        class_version = 2
        upcast_v1_v2 = staticmethod(listing_upcasts.created_v1_v2)
        owner_id: UUID
        spec: dict[str, Any]
        at: datetime

    class Updated(Aggregate.Event):
        class_version = 2
        upcast_v1_v2 = staticmethod(listing_upcasts.updated_v1_v2)
        changes: dict[str, Any]
        by: UUID
        at: datetime

    @event(Created)
    def __init__(self, owner_id: UUID, spec: dict[str, Any], at: datetime) -> None:
        self.owner_id = owner_id
        self.spec = spec
        self.status = DRAFT
        self.price_overrides: dict[str, int] = {}
        self.created_at = at
        self.updated_at = at
        self.status_reason = ""

    @classmethod
    def create(cls, owner_id: UUID, data: dict[str, Any], at: datetime) -> Listing:
        return cls(owner_id=owner_id, spec=validate_spec(data), at=at)

    # -- derived ------------------------------------------------------------------------

    @property
    def currency(self) -> str:
        return str(self.spec["pricing"]["base"]["currency"])

    @property
    def timezone(self) -> str:
        return str(self.spec["location"]["timezone"])

    @property
    def unit(self) -> str:
        return str(self.spec["booking_unit"])

    def pricing_rules(self, *, service_fee_bp: int, commission_bp: int) -> PricingRules:
        return pricing_rules_from_spec(
            self.spec,
            self.price_overrides,
            service_fee_bp=service_fee_bp,
            commission_bp=commission_bp,
        )

    def check_owner(self, user_id: UUID) -> None:
        if user_id != self.owner_id:
            raise PermissionDenied("not_owner", "only the listing's owner can do that")

    def check_bookable(self) -> None:
        if self.status != ACTIVE:
            raise RuleViolation("listing_not_active", "the listing is not open for booking")

    def _check_status(self, allowed: tuple[str, ...], action: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition(
                "invalid_listing_transition", f"cannot {action} a listing that is {self.status}"
            )

    # -- content ------------------------------------------------------------------------

    def update(self, changes: dict[str, Any], by: UUID, at: datetime) -> dict[str, Any]:
        """Applies a partial edit; returns the fields that actually changed."""
        self._check_status((DRAFT, PENDING_REVIEW, ACTIVE, INACTIVE, REJECTED), "edit")
        if self.status != DRAFT:
            for name in FROZEN_AFTER_DRAFT:
                if name in changes and changes[name] != self.spec[name]:
                    raise RuleViolation("frozen_field", f"{name} cannot change after draft")
        if "photos" in changes and "cover_photo_id" not in changes:
            # New photos without a cover: keep the cover if it stays, else the first.
            cover = self.spec.get("cover_photo_id")
            kept = str(cover) in {str(p) for p in changes["photos"] or ()}
            changes = {**changes, "cover_photo_id": cover if kept else None}
        merged = validate_spec({**self.spec, **changes})
        if merged["pricing"]["base"]["currency"] != self.currency:
            raise RuleViolation("frozen_field", "the currency cannot change")
        changed = {k: v for k, v in merged.items() if self.spec.get(k) != v}
        if changed:
            self._updated(changed, by, at)
        return changed

    @event(Updated)
    def _updated(self, changes: dict[str, Any], by: UUID, at: datetime) -> None:
        self.spec = {**self.spec, **changes}
        self.updated_at = at

    def set_price_override(self, day: date, amount: int, by: UUID, at: datetime) -> None:
        if amount < 0:
            raise RuleViolation("bad_amount", "a price cannot be negative")
        self._check_status((DRAFT, PENDING_REVIEW, ACTIVE, INACTIVE, REJECTED), "reprice")
        self._price_override_set(day.isoformat(), amount, by, at)

    @event("PriceOverrideSet")
    def _price_override_set(self, day: str, amount: int, by: UUID, at: datetime) -> None:
        self.price_overrides[day] = amount
        self.updated_at = at

    def clear_price_override(self, day: date, by: UUID, at: datetime) -> None:
        if day.isoformat() in self.price_overrides:
            self._price_override_cleared(day.isoformat(), by, at)

    @event("PriceOverrideCleared")
    def _price_override_cleared(self, day: str, by: UUID, at: datetime) -> None:
        del self.price_overrides[day]
        self.updated_at = at

    # -- status machine -----------------------------------------------------------------

    def submit(self, by: UUID, at: datetime, *, owner_email_verified: bool) -> None:
        self._check_status((DRAFT, REJECTED), "submit")
        if not owner_email_verified:  # a reachable owner is part of what review vouches for
            raise RuleViolation(
                "email_not_verified", "verify your email address before submitting a listing"
            )
        self._submitted(by, at)

    @event("Submitted")
    def _submitted(self, by: UUID, at: datetime) -> None:
        self._set_status(PENDING_REVIEW, "", at)

    def approve(self, by: UUID, at: datetime) -> None:
        self._check_status((PENDING_REVIEW,), "approve")
        self._approved(by, at)

    @event("Approved")
    def _approved(self, by: UUID, at: datetime) -> None:
        self._set_status(ACTIVE, "", at)

    def reject(self, by: UUID, reason: str, at: datetime) -> None:
        self._check_status((PENDING_REVIEW,), "reject")
        if not reason.strip():
            raise RuleViolation("reason_required", "a rejection needs a reason")
        self._rejected(by, reason, at)

    @event("Rejected")
    def _rejected(self, by: UUID, reason: str, at: datetime) -> None:
        self._set_status(REJECTED, reason, at)

    def deactivate(self, by: UUID, at: datetime) -> None:
        self._check_status((ACTIVE,), "deactivate")
        self._deactivated(by, at)

    @event("Deactivated")
    def _deactivated(self, by: UUID, at: datetime) -> None:
        self._set_status(INACTIVE, "", at)

    def activate(self, by: UUID, at: datetime) -> None:
        self._check_status((INACTIVE,), "activate")
        self._activated(by, at)

    @event("Activated")
    def _activated(self, by: UUID, at: datetime) -> None:
        self._set_status(ACTIVE, "", at)

    def suspend(self, by: UUID, reason: str, at: datetime) -> None:
        self._check_status((DRAFT, PENDING_REVIEW, ACTIVE, INACTIVE, REJECTED), "suspend")
        self._suspended(by, reason, at)

    @event("Suspended")
    def _suspended(self, by: UUID, reason: str, at: datetime) -> None:
        self._set_status(SUSPENDED, reason, at)

    def _set_status(self, status: str, reason: str, at: datetime) -> None:
        self.status = status
        self.status_reason = reason
        self.updated_at = at
