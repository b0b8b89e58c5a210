"""Booking use cases. Every change to a booking's units saves booking and calendar together."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application import random_ids
from application.context import Actor
from application.coupons import Coupons
from application.retry import StaleStateError, retry_on_conflict
from application.store import EventStore
from domain.booking import (
    ACTIVE_STATUSES,
    AWAITING_RETURN_INSPECTION,
    CONFIRMED,
    IN_PROGRESS,
    Booking,
)
from domain.booking_rules import check_bookable, resolve_period
from domain.calendar import ListingCalendar
from domain.errors import DomainError, NotFoundError
from domain.listing import Listing
from domain.policies import refund_amount, refund_schedule, schedule_as_dicts
from domain.pricing import Quote, quote


class Bookings:
    def __init__(
        self,
        store: EventStore,
        *,
        service_fee_bp: int,
        commission_bp: int,
        hold_minutes: int = 15,
        request_hours: int = 24,
        coupons: Coupons | None = None,
    ) -> None:
        self.store = store
        self.coupons = coupons or Coupons(store)
        self.service_fee_bp = service_fee_bp
        self.commission_bp = commission_bp
        self.hold = timedelta(minutes=hold_minutes)
        self.request_window = timedelta(hours=request_hours)

    def get(
        self, booking_id: UUID, *, viewer: Actor | None = None, read_only: bool = False
    ) -> Booking:
        """`read_only`: the caller will not act on the booking (an answer), so the one this
        request saved comes back itself, not a copy."""
        booking = self.store.load(booking_id, "booking", read_only=read_only)
        if not isinstance(booking, Booking):
            raise NotFoundError("booking_not_found", f"booking {booking_id} not found")
        if viewer is not None:
            booking.check_can_view(viewer.id, viewer.role)
        return booking

    def calendar(self, listing_id: UUID) -> ListingCalendar:
        cal: ListingCalendar = self.store.load(ListingCalendar.create_id(listing_id), "calendar")
        return cal

    def place(
        self,
        renter: Actor,
        listing_id: UUID,
        *,
        start: str,
        end: str,
        quantity: int,
        guests: int,
        message: str = "",
        at: datetime,
        booking_id: UUID | None = None,
        coupon_code: str | None = None,
    ) -> tuple[UUID, int]:
        """Holds the units and records the booking in one save; 409 `unavailable` when
        another booking won the units first. A `coupon_code` discounts the quote and its
        redemption is saved in that same save (422 `coupon_*` when it does not apply)."""
        booking_id = booking_id or random_ids.uuid4()

        # First on the cached listing and calendar without reading them, where the save
        # checks them in its transaction (`EventStore.acts_on_cache`); a conflict, or a
        # refusal on their evidence, is decided again on a fresh read, as before.
        verify = not self.store.acts_on_cache
        settled = False  # a refusal from a state this process committed during the request
        calendar_id = ListingCalendar.create_id(listing_id)

        def attempt() -> int:
            nonlocal verify
            cached = None if verify else self.store.load_cached(listing_id, calendar_id)
            if cached is None:
                return act(*self._load_for_placement(listing_id, calendar_id))
            try:
                return act(*cached)
            except IntegrityError:
                verify = True  # stale: the retry reads
                raise
            except DomainError:
                if settled:
                    raise
                verify = True  # today's answer is the one a fresh read gives
                return attempt()

        def act(listing: Any, calendar: ListingCalendar) -> int:
            nonlocal settled
            if not isinstance(listing, Listing):
                raise NotFoundError("listing_not_found", f"listing {listing_id} not found")
            period = resolve_period(listing, start, end)
            check_bookable(
                listing,
                calendar,
                period,
                quantity=quantity,
                guests=guests,
                renter_id=renter.id,
                at=at,
            )
            # Taken already (a race's losers): 409 before any copy, quote or booking is made,
            # as `place_hold` would answer; a coupon's 422s still come first there.
            keys = sorted(period.keys) if not coupon_code else []
            if not self.store.is_current(calendar):
                # A save in this process moved it on during this request: that committed
                # state may answer already (a state of the stream during this request, even
                # when `calendar` came unread from the cache); else load again and act.
                settled = True
                _check_free(self.store.latest(calendar), booking_id, keys, quantity, at)
                settled = False
                raise StaleStateError(f"calendar {calendar.id} moved past {calendar.version}")
            _check_free(calendar, booking_id, keys, quantity, at)
            # Only the calendar changes: the listing is read (priced, ruled on, checked in the
            # save as a read), so it stays shared, decoded once for every placement on it.
            calendar = self.store.own(calendar)
            rules = listing.pricing_rules(
                service_fee_bp=self.service_fee_bp, commission_bp=self.commission_bp
            )
            q = quote(rules, period.start, period.end, quantity, guests)
            coupon = None
            if coupon_code:
                q, coupon = self.coupons.price(
                    coupon_code, listing, q, renter_id=renter.id, at=at, booking_id=booking_id
                )
                coupon.redeem(booking_id, renter.id, q.coupon_discount, period.start_at, at)
            instant = listing.spec["booking_mode"] == "instant"
            expires_at = at + (self.hold if instant else self.request_window)
            policy = listing.spec["cancellation_policy"]
            schedule = refund_schedule(policy, start_at=period.start_at, booked_at=at)
            booking = Booking.place(
                instant=instant,
                expires_at=expires_at,
                id=booking_id,
                listing_id=listing_id,
                owner_id=listing.owner_id,
                renter_id=renter.id,
                unit=listing.unit,
                start=period.start_str,
                end=period.end_str,
                timezone=listing.timezone,
                quantity=quantity,
                guests=guests,
                message=message,
                quote=q.as_dict(),
                policy={"name": policy, "schedule": schedule_as_dicts(schedule)},
                deposit=listing.spec["deposit"],
                start_at=period.start_at,
                end_at=period.end_at,
                by=renter.id,
                role="renter",
                at=at,
            )
            calendar.place_hold(booking_id, period.keys, quantity, expires_at, at)
            # Grouped: placements on other listings may share this transaction.
            return self.store.record(calendar, booking, coupon, grouped=True, reads=(listing,))

        return booking_id, retry_on_conflict(attempt)

    def _load_for_placement(self, listing_id: UUID, calendar_id: UUID) -> list[Any]:
        # Both in one go: cached ones are brought up to date with a single query. Shared:
        # racers that lose read them only; whoever goes on takes its own copies.
        try:
            return self.store.load_all(
                (listing_id, "listing"), (calendar_id, "calendar"), shared=True
            )
        except NotFoundError:  # as before: a missing listing is named first
            if not isinstance(self.store.load(listing_id, "listing"), Listing):
                raise NotFoundError(
                    "listing_not_found", f"listing {listing_id} not found"
                ) from None
            raise

    def approve(self, owner: Actor, booking_id: UUID, at: datetime) -> int:
        def attempt() -> int:
            booking = self.get(booking_id, viewer=owner)
            calendar = self.calendar(booking.listing_id)
            booking.approve(owner.id, at, payment_expires_at=at + self.hold)
            calendar.extend_hold(booking_id, at + self.hold, at)
            return self.store.record(booking, calendar)

        return retry_on_conflict(attempt)

    def decline(self, owner: Actor, booking_id: UUID, reason: str, at: datetime) -> int:
        def attempt() -> int:
            booking = self.get(booking_id, viewer=owner)
            calendar = self.calendar(booking.listing_id)
            booking.decline(owner.id, reason, at)
            calendar.release(booking_id, "declined", at)
            return self.store.record(booking, calendar)

        return retry_on_conflict(attempt)

    def refund_for(self, booking: Booking, acting_role: str, at: datetime) -> dict[str, Any]:
        """What the policy snapshot gives back if the booking is cancelled now."""
        q = Quote.from_dict(booking.quote)
        if booking.status not in (CONFIRMED, IN_PROGRESS):
            return {"amount": 0, "currency": q.currency}
        money = refund_amount(
            booking.policy["name"],
            q,
            start_at=booking.start_at,
            booked_at=booking.placed_at,
            cancelled_at=at,
            by_role=acting_role,
        )
        return money.as_dict()

    def cancel(self, actor: Actor, booking_id: UUID, reason: str, at: datetime) -> int:
        def attempt() -> int:
            booking = self.get(booking_id, viewer=actor)
            role = booking.check_party(actor.id, actor.role)
            calendar = self.calendar(booking.listing_id)
            refund = self.refund_for(booking, role, at)
            booking.cancel(actor.id, role, reason, refund, at)
            calendar.release(booking_id, "cancelled", at)
            return self.store.record(booking, calendar)

        return retry_on_conflict(attempt)

    # -- deadlines (idempotent: a moved version or status means someone already acted) -----

    def _if_still(
        self, booking_id: UUID, if_version: int | None, due: str, at: datetime
    ) -> Booking | None:
        """The booking if this deadline command still applies to it, else None."""
        booking = self.get(booking_id)
        if if_version is not None and booking.version != if_version:
            return None
        deadline = booking.deadline(due)
        if deadline is None or at < deadline:
            return None
        return booking

    def expire(self, booking_id: UUID, at: datetime, *, if_version: int | None = None) -> int:
        def attempt() -> int:
            booking = self._if_still(booking_id, if_version, "expires_at", at)
            if booking is None or booking.status not in ACTIVE_STATUSES - {CONFIRMED, IN_PROGRESS}:
                return 0
            calendar = self.calendar(booking.listing_id)
            booking.expire(Actor.system().id, at)
            calendar.release(booking_id, "expired", at)
            return self.store.record(booking, calendar)

        return retry_on_conflict(attempt)

    def begin(self, booking_id: UUID, at: datetime, *, if_version: int | None = None) -> int:
        booking = self._if_still(booking_id, if_version, "start_at", at)
        if booking is None or booking.status != CONFIRMED:
            return 0
        booking.begin(Actor.system().id, at)
        return self.store.record(booking)

    def finish(self, booking_id: UUID, at: datetime, *, if_version: int | None = None) -> int:
        booking = self._if_still(booking_id, if_version, "end_at", at)
        if booking is None or booking.status != IN_PROGRESS:
            return 0
        booking.finish(Actor.system().id, at)
        return self.store.record(booking)

    def complete(
        self,
        actor: Actor,
        booking_id: UUID,
        at: datetime,
        *,
        if_version: int | None = None,
    ) -> int:
        """The owner confirms the return, or the inspection window closes (system)."""
        if actor.role == "system":
            system_booking = self._if_still(booking_id, if_version, "inspection_ends_at", at)
            if system_booking is None or system_booking.status != AWAITING_RETURN_INSPECTION:
                return 0
            booking = system_booking
        else:
            booking = self.get(booking_id, viewer=actor)
        booking.complete(actor.id, actor.role, at)
        return self.store.record(booking)


def _check_free(
    calendar: ListingCalendar, booking_id: UUID, keys: list[int], quantity: int, at: datetime
) -> None:
    """`place_hold`'s availability check on a state the caller only reads (a booking that
    already holds units is left to `place_hold`, which names it)."""
    if keys and str(booking_id) not in calendar.allocations:
        calendar.check_available(keys, quantity, at)
