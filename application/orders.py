"""Order use cases: place a basket all or nothing, read it, cancel it.

Placing reuses the booking's domain steps item by item (`resolve_period`, `check_bookable`,
`quote`, `Booking.place`, `ListingCalendar.place_hold`) and records every calendar hold, every
item booking and the order in ONE `store.record(...)`: the event store's optimistic
concurrency on each calendar stream makes a racing order lose as a whole, and a retry against
fresh state refuses it with every unavailable item named. Paying is in `order_payments.py`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.bookings import Bookings
from application.context import Actor
from application.order_coupons import price_basket
from application.retry import retry_on_conflict
from application.store import EventStore
from domain.booking import ACTIVE_STATUSES, Booking
from domain.booking_rules import check_bookable, resolve_period
from domain.calendar import ListingCalendar
from domain.errors import (
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
    UnavailableError,
)
from domain.listing import Listing
from domain.order import (
    MAX_ITEMS,
    Order,
    OrderItemError,
    OrderUnavailableError,
    order_quote,
    order_status,
    share_service_fee,
)
from domain.order_coupon import with_coupon
from domain.policies import refund_schedule, schedule_as_dicts
from domain.pricing import quote


@dataclass(frozen=True)
class OrderItem:
    listing_id: UUID
    start: str
    end: str
    quantity: int = 1
    guests: int | None = None  # defaults to the order's guests


class Orders:
    def __init__(self, store: EventStore, bookings: Bookings) -> None:
        self.store = store
        self.bookings = bookings

    # -- reading ---------------------------------------------------------------------------

    def get(self, order_id: UUID, *, viewer: Actor | None = None) -> Order:
        order = self.store.load(order_id, "order")
        if not isinstance(order, Order):
            raise NotFoundError("order_not_found", f"order {order_id} not found")
        if viewer is not None:
            order.check_can_view(viewer.id, viewer.role)
        return order

    def items(self, order: Order) -> list[Booking]:
        return [self.bookings.get(booking_id) for booking_id in order.booking_ids]

    def describe(self, order: Order, viewer: Actor) -> dict[str, Any]:
        """The order as `viewer` may see it: owners see only their items (and no totals of
        other owners' items); its status is derived from every item's."""
        bookings = self.items(order)
        visible = {str(i["booking_id"]) for i in order.visible_items(viewer.id, viewer.role)}
        whole = viewer.role == "admin" or viewer.id == order.renter_id
        items = [
            {"index": n, "booking": booking}
            for n, booking in enumerate(bookings)
            if str(booking.id) in visible
        ]
        return {
            "order": order,
            "status": order_status(bk.status for bk in bookings),
            "items": items,
            "quote": order.quote if whole else None,
        }

    # -- placing ---------------------------------------------------------------------------

    def place(
        self,
        renter: Actor,
        items: list[OrderItem],
        *,
        guests: int = 1,
        at: datetime,
        order_id: UUID | None = None,
        coupon_code: str | None = None,
    ) -> tuple[UUID, int]:
        """Holds every item and records the order in one save, or nothing at all: 409
        `unavailable` naming every item whose units are taken, 422 naming the first item
        that breaks a booking rule. A `coupon_code` is redeemed once for the order, in that
        same save (application/order_coupons.py; 422 `coupon_*` when it does not apply)."""
        if not 1 <= len(items) <= MAX_ITEMS:
            raise RuleViolation("bad_items", f"an order has 1 to {MAX_ITEMS} items")
        order_id = order_id or uuid.uuid4()
        booking_ids = [uuid.uuid5(order_id, f"item:{n}") for n in range(len(items))]
        return order_id, retry_on_conflict(
            lambda: self._attempt(renter, items, guests, at, order_id, booking_ids, coupon_code)
        )

    def _attempt(
        self,
        renter: Actor,
        items: list[OrderItem],
        guests: int,
        at: datetime,
        order_id: UUID,
        booking_ids: list[UUID],
        coupon_code: str | None = None,
    ) -> int:
        listings: dict[UUID, Listing] = {}
        calendars: dict[UUID, ListingCalendar] = {}
        planned = []
        for n, item in enumerate(items):
            listing = listings.get(item.listing_id) or self._listing(n, item.listing_id)
            listings[item.listing_id] = listing
            if item.listing_id not in calendars:
                calendars[item.listing_id] = self.bookings.calendar(item.listing_id)
            item_guests = item.guests or guests
            try:
                period = resolve_period(listing, item.start, item.end)
                check_bookable(
                    listing,
                    calendars[item.listing_id],
                    period,
                    quantity=item.quantity,
                    guests=item_guests,
                    renter_id=renter.id,
                    at=at,
                )
                rules = listing.pricing_rules(
                    service_fee_bp=self.bookings.service_fee_bp,
                    commission_bp=self.bookings.commission_bp,
                )
                q = quote(rules, period.start, period.end, item.quantity, item_guests)
            except RuleViolation as error:
                raise OrderItemError(n, item.listing_id, error.code, error.detail) from None
            planned.append((item, listing, period, item_guests, q.as_dict()))
        quotes = share_service_fee([p[4] for p in planned], self.bookings.service_fee_bp)
        coupon, discount = None, 0
        if coupon_code:
            quotes, coupon, discount = price_basket(
                self.bookings.coupons,
                coupon_code,
                [p[1] for p in planned],
                quotes,
                renter_id=renter.id,
                at=at,
                order_id=order_id,
            )
            first_start = min(p[2].start_at for p in planned)
            coupon.redeem(order_id, renter.id, discount, first_start, at)
        # One expiry for the basket: a request-to-book item gives every item its window, so
        # instant items do not lapse while an owner decides.
        instant_all = all(p[1].spec["booking_mode"] == "instant" for p in planned)
        expires_at = at + (self.bookings.hold if instant_all else self.bookings.request_window)
        unavailable: list[dict[str, Any]] = []
        bookings: list[Booking] = []
        for n, ((item, listing, period, item_guests, _), shared) in enumerate(
            zip(planned, quotes, strict=True)
        ):
            try:
                calendars[item.listing_id].place_hold(
                    booking_ids[n], period.keys, item.quantity, expires_at, at
                )
            except UnavailableError as error:
                unavailable.append(
                    {"index": n, "listing_id": str(item.listing_id), "detail": error.detail}
                )
                continue
            policy = listing.spec["cancellation_policy"]
            schedule = refund_schedule(policy, start_at=period.start_at, booked_at=at)
            bookings.append(
                Booking.place(
                    instant=listing.spec["booking_mode"] == "instant",
                    expires_at=expires_at,
                    id=booking_ids[n],
                    listing_id=item.listing_id,
                    owner_id=listing.owner_id,
                    renter_id=renter.id,
                    unit=listing.unit,
                    start=period.start_str,
                    end=period.end_str,
                    timezone=listing.timezone,
                    quantity=item.quantity,
                    guests=item_guests,
                    message="",
                    quote=shared,
                    policy={"name": policy, "schedule": schedule_as_dicts(schedule)},
                    deposit=listing.spec["deposit"],
                    start_at=period.start_at,
                    end_at=period.end_at,
                    by=renter.id,
                    role="renter",
                    at=at,
                    order_id=order_id,
                )
            )
        if unavailable:
            raise OrderUnavailableError(unavailable)  # nothing was saved
        basket_quote = order_quote(quotes)
        if coupon is not None:  # the discount is a line of the order's quote
            funder = coupon.conditions.funded_by
            basket_quote = with_coupon(basket_quote, coupon.code, discount, funder)
        order = Order(
            id=order_id,
            renter_id=renter.id,
            items=[
                {
                    "booking_id": str(booking.id),
                    "listing_id": str(booking.listing_id),
                    "owner_id": str(booking.owner_id),
                    "start": booking.start,
                    "end": booking.end,
                    "quantity": booking.quantity,
                }
                for booking in bookings
            ],
            guests=guests,
            quote=basket_quote,
            at=at,
        )
        return self.store.record(*calendars.values(), *bookings, order, coupon)

    def _listing(self, index: int, listing_id: UUID) -> Listing:
        try:
            listing = self.store.load(listing_id, "listing")
        except NotFoundError:
            listing = None
        if not isinstance(listing, Listing):
            raise NotFoundError(
                "listing_not_found", f"item #{index}: listing {listing_id} not found"
            )
        return listing

    # -- cancelling ------------------------------------------------------------------------

    def cancel(
        self, actor: Actor, order_id: UUID, reason: str, at: datetime
    ) -> tuple[int, list[UUID]]:
        """Cancels every live item in one save, each refunding per its own policy snapshot
        (`refund_due`); returns the position and the item bookings cancelled (for the
        payment follow-ups).
        The renter or an admin; an item's owner cancels only their item, through the booking."""

        def attempt() -> tuple[int, list[UUID]]:
            order = self.get(order_id, viewer=actor)
            if actor.role != "admin" and actor.id != order.renter_id:
                raise PermissionDenied("not_renter", "only the renter cancels a whole order")
            role = "admin" if actor.role == "admin" else "renter"
            calendars: dict[UUID, ListingCalendar] = {}
            changed: list[Booking] = []
            for booking in self.items(order):
                if booking.status not in ACTIVE_STATUSES:
                    continue
                if booking.listing_id not in calendars:
                    calendars[booking.listing_id] = self.bookings.calendar(booking.listing_id)
                refund = self.bookings.refund_for(booking, role, at)
                booking.cancel(actor.id, role, reason, refund, at)
                calendars[booking.listing_id].release(booking.id, "cancelled", at)
                changed.append(booking)
            if not changed:
                raise InvalidTransition(
                    "invalid_order_transition", "no item of the order can be cancelled"
                )
            order.cancel(actor.id, role, reason, at)
            position = self.store.record(*changed, *calendars.values(), order)
            return position, [booking.id for booking in changed]

        return retry_on_conflict(attempt)
