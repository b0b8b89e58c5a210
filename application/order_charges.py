"""An order's one processor charge: its events, fanned out to the item payments in one save.

The processor knows one charge for the basket (`OrderCharge`, domain/order_charge.py); the
money belongs to the items (`Payment` per booking). `route` tells which a processor event is
for: a charge-level event (the intent's success or failure, a refund we cannot place, a
chargeback) goes to the order charge; a refund of ours goes to the item that asked for it
(the refund's metadata names it); deposits and transfers are the item's own already.

`apply_order_event` runs the booking lifecycle's own rules (`payment_events`) for every item:
a capture gives each item payment its captured share and fee share, then each booking
confirms (or is refunded when it lapsed); a failure fails every item payment and every
booking follows the failed-payment path. Everything is saved in ONE `store.record(...)`.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from application.bookings import Bookings
from application.payment_access import PaymentAccess
from application.payment_events import (
    GatewayUnavailableForRefund,
    after_capture,
    after_failure,
    apply_chargeback,
    mark_refunded_if_done,
)
from application.payment_gateway import GatewayError, GatewayEvent
from application.retry import retry_on_conflict
from domain.booking import Booking
from domain.calendar import ListingCalendar
from domain.errors import NotFoundError
from domain.money import Money
from domain.order import allocate
from domain.order_charge import OrderCharge
from domain.payment import Payment

log = logging.getLogger(__name__)
FAILED_TYPES = ("payment_intent.payment_failed", "payment_intent.canceled")


@dataclass(frozen=True)
class OrderRoute:
    """The event is the order charge's; `refund_amount` is an unknown refund's own amount."""

    charge_id: UUID
    refund_amount: int | None = None


def charge_level(event: GatewayEvent) -> bool:
    if event.type.startswith("payment_intent."):
        return event.step in ("", "charge")
    return event.type == "charge.refunded" or event.type.startswith("charge.dispute.")


def route(p: PaymentAccess, payment_id: UUID, event: GatewayEvent) -> UUID | OrderRoute:
    """The item payment the event is for, or the order charge (reads only; no save)."""
    if not charge_level(event):
        return payment_id
    try:
        target = p.store.load(payment_id, "payment")
    except NotFoundError:
        return payment_id
    if isinstance(target, Payment):
        if target.order_charge_id is None:
            return payment_id
        target = p.order_charge(target.order_charge_id)
    if not isinstance(target, OrderCharge):
        return payment_id
    if event.type != "charge.refunded" or not event.refund_id:
        return OrderRoute(target.id)
    for pid in target.payment_ids:  # a refund one item asked for and knows already
        if event.refund_id in p.store.load(pid, "payment").refund_by_processor_id:
            return pid
    try:
        state = p.gateway.retrieve("refund", event.refund_id)
    except GatewayError:
        return OrderRoute(target.id)  # handled as unknown: fails the delivery to come again
    if state.payment_id in target.payment_ids:  # ours: its metadata names the item
        return state.payment_id
    return OrderRoute(target.id, state.amount.amount if state.amount else None)


class _SharedLoads:
    """Bookings and calendars loaded once per save: two items of one listing share (and
    change) one calendar instance."""

    def __init__(self, bookings: Bookings) -> None:
        self._bookings = bookings
        self._loaded: dict[UUID, Any] = {}

    def get(self, booking_id: UUID, **kw: Any) -> Booking:
        if booking_id not in self._loaded:
            self._loaded[booking_id] = self._bookings.get(booking_id, **kw)
        return cast(Booking, self._loaded[booking_id])

    def calendar(self, listing_id: UUID) -> ListingCalendar:
        if listing_id not in self._loaded:
            self._loaded[listing_id] = self._bookings.calendar(listing_id)
        return cast(ListingCalendar, self._loaded[listing_id])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bookings, name)


def apply_order_event(
    p: PaymentAccess, to: OrderRoute, event: GatewayEvent, at: datetime
) -> tuple[int, list[UUID]]:
    """Applies one processor event of an order's charge; returns the position recorded (0
    when nothing was new) and the item bookings to follow up."""

    def attempt() -> tuple[int, list[UUID]]:
        charge = p.order_charge(to.charge_id)
        if charge.has_processed(event.id):
            return 0, []
        scope = copy.copy(p)  # the same use cases, with loads shared across the items
        scope.bookings = cast(Bookings, _SharedLoads(p.bookings))
        payments: list[Payment] = [p.store.load(pid, "payment") for pid in charge.payment_ids]
        others = _fan_out(scope, charge, payments, event, to, at)
        if others is None:
            return 0, []
        unique = list({id(a): a for a in others}.values())
        position = p.store.record(charge, *payments, *unique)
        return position, charge.booking_ids

    return retry_on_conflict(attempt)


def _fan_out(
    p: PaymentAccess,
    charge: OrderCharge,
    payments: list[Payment],
    event: GatewayEvent,
    to: OrderRoute,
    at: datetime,
) -> list[Any] | None:
    kind, currency = event.type, charge.currency
    intent = event.intent_id or charge.intent_id or event.object_id or ""
    others: list[Any] = []
    if kind == "payment_intent.succeeded":
        amount, fee = event.amount or Money(0, currency), event.fee or Money(0, currency)
        shares = charge.capture(event.id, intent, amount.amount, fee.amount, at)
        if shares is None:
            return None
        for payment, share in zip(payments, shares, strict=True):
            got, cost = Money(share["amount"], currency), Money(share["fee"], currency)
            if share["amount"] and payment.capture_charge(event.id, intent, got, cost, at):
                others += after_capture(p, payment, at)
        return others
    if kind in FAILED_TYPES:
        reason = event.reason or "payment failed"
        if not charge.fail(event.id, reason, at):
            return None
        for payment in payments:
            if payment.fail_charge(event.id, reason, at):
                others += after_failure(p, payment, reason, at)
        return others
    if kind == "charge.refunded" and event.refund_id:
        return _unknown_refund(p, payments, event, to, at)
    if kind.startswith("charge.dispute."):
        _split_chargeback(charge, payments, event, at)
        return others
    log.info("order charge %s: %s needs nothing", charge.id, kind)
    return None


def _unknown_refund(
    p: PaymentAccess, payments: list[Payment], event: GatewayEvent, to: OrderRoute, at: datetime
) -> list[Any]:
    """A refund made at the processor (its dashboard) on the order's charge: split over the
    items by what each still has to refund."""
    if to.refund_amount is None:
        raise GatewayUnavailableForRefund(str(event.refund_id))
    parts = allocate(to.refund_amount, [pay.refundable for pay in payments])
    others: list[Any] = []
    for payment, part in zip(payments, parts, strict=True):
        money = Money(part, payment.currency)
        if part and payment.record_refund_succeeded(event.id, str(event.refund_id), money, at):
            others += mark_refunded_if_done(p, payment, at)
    return others


def _split_chargeback(
    charge: OrderCharge, payments: list[Payment], event: GatewayEvent, at: datetime
) -> None:
    """A chargeback on the one charge, split over the items by what each still had when it
    was first seen; the dispute fee follows the split."""
    dispute = event.dispute_id or event.object_id
    weights = charge.dispute_split(dispute, [pay.refundable for pay in payments])
    amount = event.amount.amount if event.amount else 0
    parts = allocate(amount, weights)
    fees = allocate(event.fee.amount if event.fee else 0, parts)
    for payment, part, fee in zip(payments, parts, fees, strict=True):
        if part > 0:
            share, cost = Money(part, payment.currency), Money(fee, payment.currency)
            apply_chargeback(payment, replace(event, amount=share, fee=cost), at)
