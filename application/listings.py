"""Listing and calendar use cases: create, edit, review, blocks and per-date prices."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from uuid import UUID

from application.context import Actor
from application.coupons import Coupons
from application.ports import MediaCatalog
from application.retry import retry_on_conflict
from application.store import EventStore
from domain.booking_rules import buffer_slots, check_bookable, resolve_period
from domain.calendar import ListingCalendar
from domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
    UnavailableError,
)
from domain.listing import ACTIVE, Listing
from domain.periods import SLOT_SECONDS
from domain.policies import refund_schedule, schedule_as_dicts
from domain.pricing import quote


class Listings:
    def __init__(
        self,
        store: EventStore,
        *,
        service_fee_bp: int,
        commission_bp: int,
        media: MediaCatalog | None = None,
        coupons: Coupons | None = None,
    ) -> None:
        self.store = store
        self.coupons = coupons or Coupons(store)
        self.media = media  # without a catalog, no photo can be checked: every one is refused
        self.service_fee_bp = service_fee_bp
        self.commission_bp = commission_bp

    # -- loading ------------------------------------------------------------------------

    def get(self, listing_id: UUID, *, viewer: Actor | None = None) -> Listing:
        """A listing as its owner or an admin sees it; others only see active ones."""
        listing: Listing = self.store.load(listing_id, "listing")
        if not isinstance(listing, Listing):
            raise NotFoundError("listing_not_found", f"listing {listing_id} not found")
        is_privileged = viewer is not None and (
            viewer.role == "admin" or viewer.id == listing.owner_id
        )
        if listing.status != ACTIVE and not is_privileged:
            raise NotFoundError("listing_not_found", f"listing {listing_id} not found")
        return listing

    def calendar(self, listing_id: UUID) -> ListingCalendar:
        cal: ListingCalendar = self.store.load(ListingCalendar.create_id(listing_id), "calendar")
        return cal

    def _owned(self, listing_id: UUID, actor: Actor) -> Listing:
        listing = self.get(listing_id, viewer=actor)
        if actor.role != "admin":
            listing.check_owner(actor.id)
        return listing

    @staticmethod
    def _check_version(listing: Listing, if_version: int | None) -> None:
        if if_version is not None and listing.version != if_version:
            raise ConflictError("version_mismatch", "the listing changed; reload and retry")

    # -- commands -----------------------------------------------------------------------

    def create(self, owner: Actor, data: dict[str, Any], at: datetime) -> tuple[UUID, int]:
        listing = Listing.create(owner.id, data, at)
        spec = listing.spec
        self._check_photos(owner.id, spec["photos"])
        calendar = ListingCalendar(
            listing_id=listing.id,
            unit=listing.unit,
            units=spec["quantity"],
            step=SLOT_SECONDS if listing.unit == "hour" else 1,
            buffer_slots=buffer_slots(spec["buffer_minutes"]),
            opening_hours=spec["opening_hours"],
            at=at,
        )
        user = self._grant_owner(owner, at)
        return listing.id, self.store.record(listing, calendar, user)

    def _check_photos(self, owner_id: UUID, photos: list[str]) -> None:
        """Photos must be media the listing's owner uploaded."""
        ids = [UUID(p) for p in photos]
        bad = ids if self.media is None else self.media.missing(owner_id, ids)
        if bad:
            raise RuleViolation(
                "unknown_photos",
                "not media uploaded by the listing's owner: " + ", ".join(map(str, bad)),
            )

    def _grant_owner(self, owner: Actor, at: datetime) -> Any:
        """Owner capabilities come with the first listing; saved in the same transaction."""
        if not self.store.exists(owner.id):
            return None
        user = self.store.load(owner.id, "user")
        if "owner" in getattr(user, "roles", ["owner"]):
            return None
        user.grant_role("owner", by=owner.id, at=at)
        return user

    def update(
        self,
        actor: Actor,
        listing_id: UUID,
        changes: dict[str, Any],
        at: datetime,
        *,
        if_version: int | None = None,
    ) -> int:
        def attempt() -> int:
            listing = self._owned(listing_id, actor)
            self._check_version(listing, if_version)
            changed = listing.update(changes, by=actor.id, at=at)
            if "photos" in changed:
                self._check_photos(listing.owner_id, changed["photos"])
            calendar = self.calendar(listing_id)
            if "quantity" in changed:
                calendar.change_units(changed["quantity"], at)
            if "buffer_minutes" in changed or "opening_hours" in changed:
                calendar.change_rules(
                    buffer_slots(listing.spec["buffer_minutes"]),
                    listing.spec["opening_hours"],
                    at,
                )
            return self.store.record(listing, calendar)

        return retry_on_conflict(attempt) if if_version is None else attempt()

    def _transition(self, listing_id: UUID, actor: Actor, action: str, *args: Any) -> int:
        listing = self._owned(listing_id, actor)
        getattr(listing, action)(actor.id, *args)
        return self.store.record(listing)

    def submit(self, actor: Actor, listing_id: UUID, at: datetime) -> int:
        """Sends the listing to review; 422 `email_not_verified` while its owner's email
        is not verified (an owner without an account counts as unverified)."""
        listing = self._owned(listing_id, actor)
        verified = self._email_verified(listing.owner_id)
        listing.submit(actor.id, at, owner_email_verified=verified)
        return self.store.record(listing)

    def _email_verified(self, user_id: UUID) -> bool:
        try:
            user = self.store.load(user_id, "user")
        except NotFoundError:
            return False
        return bool(getattr(user, "email_verified", False))

    def deactivate(self, actor: Actor, listing_id: UUID, at: datetime) -> int:
        return self._transition(listing_id, actor, "deactivate", at)

    def activate(self, actor: Actor, listing_id: UUID, at: datetime) -> int:
        return self._transition(listing_id, actor, "activate", at)

    def approve(self, admin: Actor, listing_id: UUID, at: datetime) -> int:
        self._check_admin(admin)
        return self._transition(listing_id, admin, "approve", at)

    def reject(self, admin: Actor, listing_id: UUID, reason: str, at: datetime) -> int:
        self._check_admin(admin)
        listing = self.get(listing_id, viewer=admin)
        listing.reject(admin.id, reason, at)
        return self.store.record(listing)

    @staticmethod
    def _check_admin(actor: Actor) -> None:
        if actor.role != "admin":
            raise PermissionDenied("admin_only", "only an admin can do that")

    def add_block(
        self, actor: Actor, listing_id: UUID, start: str, end: str, reason: str, at: datetime
    ) -> tuple[UUID, int]:
        block_id = uuid.uuid4()

        def attempt() -> int:
            listing = self._owned(listing_id, actor)
            period = resolve_period(listing, start, end)
            calendar = self.calendar(listing_id)
            calendar.add_block(block_id, period.keys, reason, at)
            return self.store.record(calendar)

        return block_id, retry_on_conflict(attempt)

    def remove_block(self, actor: Actor, listing_id: UUID, block_id: UUID, at: datetime) -> int:
        def attempt() -> int:
            self._owned(listing_id, actor)
            calendar = self.calendar(listing_id)
            calendar.remove_block(block_id, at)
            return self.store.record(calendar)

        return retry_on_conflict(attempt)

    def set_price(
        self, actor: Actor, listing_id: UUID, day: date, amount: int, at: datetime
    ) -> int:
        listing = self._owned(listing_id, actor)
        listing.set_price_override(day, amount, by=actor.id, at=at)
        return self.store.record(listing)

    def clear_price(self, actor: Actor, listing_id: UUID, day: date, at: datetime) -> int:
        listing = self._owned(listing_id, actor)
        listing.clear_price_override(day, by=actor.id, at=at)
        return self.store.record(listing)

    # -- queries --------------------------------------------------------------------------

    def quote(
        self,
        listing_id: UUID,
        *,
        start: str,
        end: str,
        quantity: int,
        guests: int,
        at: datetime,
        viewer: Actor | None = None,
        coupon_code: str | None = None,
    ) -> dict[str, Any]:
        """The price and cancellation terms of a stay; 422 when it is not bookable, or
        when the `coupon_code` does not apply (a signed-in viewer: personal limits count)."""
        listing = self.get(listing_id, viewer=viewer)
        calendar = self.calendar(listing_id)
        period = resolve_period(listing, start, end)
        check_bookable(
            listing,
            calendar,
            period,
            quantity=quantity,
            guests=guests,
            renter_id=viewer.id if viewer else None,
            at=at,
        )
        rules = listing.pricing_rules(
            service_fee_bp=self.service_fee_bp, commission_bp=self.commission_bp
        )
        q = quote(rules, period.start, period.end, quantity, guests)
        if coupon_code:
            renter_id = viewer.id if viewer else uuid.UUID(int=0)
            q, _ = self.coupons.price(coupon_code, listing, q, renter_id=renter_id, at=at)
        policy = listing.spec["cancellation_policy"]
        schedule = refund_schedule(policy, start_at=period.start_at, booked_at=at)
        try:
            calendar.check_available(period.keys, quantity, at)
        except UnavailableError as e:
            raise RuleViolation("unavailable", e.detail) from None
        return {
            "quote": q.as_dict(),
            "cancellation_policy": policy,
            "cancellation_schedule": schedule_as_dicts(schedule),
            "deposit": listing.spec["deposit"],
        }
