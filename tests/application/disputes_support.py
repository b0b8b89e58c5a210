"""A dispute case for the dispute use case tests: a booking driven to its end, the dispute
use cases, and a fake of the payment commands that records what they were asked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from application.context import Actor
from application.disputes import Disputes
from domain.booking import AWAITING_RETURN_INSPECTION, Booking
from domain.dispute import Dispute
from domain.money import Money
from domain.payment import Payment
from tests.builders import NOW, World, make_world

DEPOSIT: dict[str, Any] = {"amount": 20_000, "currency": "EUR"}


@dataclass
class FakePayments:
    """The payment commands a resolution calls, recorded instead of performed."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def refund(
        self, booking_id: UUID, amount: Money, reason: str, *, by: Actor, at: datetime
    ) -> int:
        self.calls.append(("refund", booking_id, amount, by.id))
        return 0

    def capture_deposit(
        self, booking_id: UUID, amount: Money, reason: str, *, by: Actor, at: datetime
    ) -> int:
        self.calls.append(("capture_deposit", booking_id, amount, by.id))
        return 0

    def release_deposit(self, booking_id: UUID, *, by: Actor, at: datetime) -> int:
        self.calls.append(("release_deposit", booking_id, by.id))
        return 0


@dataclass
class Case:
    w: World
    disputes: Disputes
    payments: FakePayments
    booking_id: UUID
    ended_at: datetime

    def booking(self) -> Booking:
        return self.w.bookings.get(self.booking_id)

    def open(self, actor: Actor | None = None, at: datetime | None = None, **kw: Any) -> UUID:
        fields: dict[str, Any] = {
            "kind": "damage",
            "description": "The bike came back with a bent wheel.",
            "claimed_amount": Money(15_000, "EUR"),
            "evidence": ["https://example.com/wheel.jpg"],
        }
        dispute_id, position = self.disputes.open(
            actor or self.w.owner,
            self.booking_id,
            at=at or self.ended_at + timedelta(hours=1),
            **(fields | kw),
        )
        assert position > 0
        return dispute_id

    def dispute(self, dispute_id: UUID) -> Dispute:
        return self.disputes.get(self.w.admin, dispute_id)


def confirm_paid(w: World, booking_id: UUID, at: datetime) -> None:
    """What the capture webhook does to the booking (the payments flow is tested on its
    own): reserve the units and confirm, in one save."""
    booking = w.bookings.get(booking_id)
    calendar = w.bookings.calendar(booking.listing_id)
    calendar.confirm(booking_id, at)
    booking.confirm(by=Actor.system().id, at=at)
    w.store.record(booking, calendar)


def record_payment(w: World, booking_id: UUID, *, captured: bool = True) -> Payment:
    """The booking's Payment with the charge captured and the deposit (if any) held."""
    booking = w.bookings.get(booking_id)
    deposit = Money.from_dict(booking.deposit) if booking.deposit else None
    payment = Payment.open(
        booking_id=booking_id,
        owner_id=booking.owner_id,
        renter_id=booking.renter_id,
        quote=booking.quote,
        deposit=deposit,
        by=booking.renter_id,
        at=NOW,
    )
    payment.request_charge("charge-key", booking.renter_id, NOW)
    if captured:
        total = Money(booking.quote["total"], booking.quote["currency"])
        payment.capture_charge("evt_capture", "pi_charge", total, Money(0, "EUR"), NOW)
    if deposit is not None:
        payment.authorize_deposit("evt_deposit", "pi_deposit", deposit, NOW)
    w.store.record(payment)
    return payment


def ended_booking(
    w: World | None = None, *, deposit: bool = True, paid: bool = True
) -> tuple[World, UUID, datetime]:
    """A booking driven through the booking use cases to AWAITING_RETURN_INSPECTION."""
    w = w or make_world()
    listing_id = w.active_listing(deposit=DEPOSIT if deposit else None)
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-04", quantity=1, guests=2, at=NOW
    )
    confirm_paid(w, booking_id, NOW + timedelta(minutes=1))
    if paid:
        record_payment(w, booking_id)
    booking = w.bookings.get(booking_id)
    start_at, end_at = booking.deadline("start_at"), booking.deadline("end_at")
    assert start_at is not None and end_at is not None
    w.bookings.begin(booking_id, start_at)
    w.bookings.finish(booking_id, end_at)
    assert w.bookings.get(booking_id).status == AWAITING_RETURN_INSPECTION
    return w, booking_id, end_at


def make_case(**kw: Any) -> Case:
    w, booking_id, ended_at = ended_booking(**kw)
    payments = FakePayments()
    return Case(w, Disputes(w.store, w.bookings, payments), payments, booking_id, ended_at)


def stranger() -> Actor:
    return Actor(uuid.uuid4(), "user")
