"""Booking use cases on the in-memory store: the whole lifecycle and its refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.context import Actor
from application.payment_gateway import GatewayEvent, payment_id_for
from application.payments import Payments
from domain.booking import (
    AWAITING_RETURN_INSPECTION,
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    IN_PROGRESS,
    PENDING_OWNER_APPROVAL,
    PENDING_PAYMENT,
)
from domain.errors import (
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
    UnavailableError,
)
from domain.money import Money
from tests.builders import NOW, make_world


def test_instant_booking_waits_for_payment_and_holds_the_units() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id, position = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-04", quantity=1, guests=2, at=NOW
    )
    booking = w.bookings.get(booking_id)
    assert position > 0
    assert booking.status == PENDING_PAYMENT
    assert booking.deadline("expires_at") == NOW + timedelta(minutes=15)
    assert booking.quote["base_total"] == 30_000
    assert w.bookings.calendar(listing_id).allocation(booking_id) is not None


def test_second_overlapping_booking_is_rejected() -> None:
    w = make_world()
    listing_id = w.active_listing()
    w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-04", quantity=1, guests=1, at=NOW
    )
    with pytest.raises(UnavailableError):
        w.bookings.place(
            Actor.system(),
            listing_id,
            start="2026-07-03",
            end="2026-07-05",
            quantity=1,
            guests=1,
            at=NOW,
        )


def test_back_to_back_bookings_share_the_changeover_day() -> None:
    w = make_world()
    listing_id = w.active_listing()
    w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-04", quantity=1, guests=1, at=NOW
    )
    booking_id, _ = w.bookings.place(
        w.admin, listing_id, start="2026-07-04", end="2026-07-06", quantity=1, guests=1, at=NOW
    )
    assert w.bookings.get(booking_id).status == PENDING_PAYMENT


def test_request_to_book_needs_the_owner_and_expires_after_a_day() -> None:
    w = make_world()
    listing_id = w.active_listing(booking_mode="request")
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-02", quantity=1, guests=1, at=NOW
    )
    assert w.bookings.get(booking_id).status == PENDING_OWNER_APPROVAL
    assert w.bookings.expire(booking_id, NOW + timedelta(hours=23)) == 0
    assert w.bookings.get(booking_id).status == PENDING_OWNER_APPROVAL
    w.bookings.expire(booking_id, NOW + timedelta(hours=24))
    assert w.bookings.get(booking_id).status == CANCELLED
    assert w.bookings.calendar(listing_id).allocation(booking_id) is None


def test_only_the_owner_approves_and_approval_starts_the_payment_clock() -> None:
    w = make_world()
    listing_id = w.active_listing(booking_mode="request")
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-02", quantity=1, guests=1, at=NOW
    )
    with pytest.raises((PermissionDenied, NotFoundError)):
        w.bookings.approve(w.renter, booking_id, NOW)
    later = NOW + timedelta(hours=2)
    w.bookings.approve(w.owner, booking_id, later)
    booking = w.bookings.get(booking_id)
    assert booking.status == PENDING_PAYMENT
    assert booking.deadline("expires_at") == later + timedelta(minutes=15)


def test_declined_request_releases_the_units() -> None:
    w = make_world()
    listing_id = w.active_listing(booking_mode="request")
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-02", quantity=1, guests=1, at=NOW
    )
    w.bookings.decline(w.owner, booking_id, "not available", NOW)
    assert w.bookings.get(booking_id).status == CANCELLED
    w.bookings.place(
        w.admin, listing_id, start="2026-07-01", end="2026-07-02", quantity=1, guests=1, at=NOW
    )


@pytest.mark.parametrize(
    ("overrides", "kwargs", "code"),
    [
        ({}, {"start": "2026-05-01", "end": "2026-05-03"}, "in_the_past"),
        ({"min_duration": 3}, {"start": "2026-07-01", "end": "2026-07-02"}, "too_short"),
        ({"max_duration": 2}, {"start": "2026-07-01", "end": "2026-07-05"}, "too_long"),
        (
            {"advance_notice_hours": 72},
            {"start": "2026-06-02", "end": "2026-06-03"},
            "short_notice",
        ),
        (
            {"booking_window_days": 30},
            {"start": "2026-09-01", "end": "2026-09-02"},
            "beyond_window",
        ),
        ({}, {"start": "2026-07-01", "end": "2026-07-02", "guests": 9}, "over_capacity"),
        ({}, {"start": "2026-07-02", "end": "2026-07-01"}, "bad_period"),
    ],
)
def test_rule_violations_are_refused_before_anything_is_recorded(
    overrides: dict[str, object], kwargs: dict[str, object], code: str
) -> None:
    w = make_world()
    listing_id = w.active_listing(**overrides)
    before = w.store.current_position()
    args: dict[str, object] = {"quantity": 1, "guests": 1, **kwargs}
    with pytest.raises(RuleViolation) as err:
        w.bookings.place(w.renter, listing_id, at=NOW, **args)  # type: ignore[arg-type]
    assert err.value.code == code
    assert w.store.current_position() == before


def test_owner_cannot_book_own_listing_nor_an_inactive_one() -> None:
    w = make_world()
    listing_id = w.active_listing()
    with pytest.raises(RuleViolation, match="own"):
        w.bookings.place(
            w.owner, listing_id, start="2026-07-01", end="2026-07-02", quantity=1, guests=1, at=NOW
        )
    w.listings.deactivate(w.owner, listing_id, NOW)
    with pytest.raises(RuleViolation, match="not open"):
        w.bookings.place(
            w.renter, listing_id, start="2026-07-01", end="2026-07-02", quantity=1, guests=1, at=NOW
        )


class _NoGateway:
    def __init__(self) -> None:
        self.charges: list[object] = []
        self.refunds: list[object] = []

    def create_charge(self, request: object) -> object:
        from application.payment_gateway import ChargeResult

        self.charges.append(request)
        return ChargeResult("ch_1", "requires_confirmation", "secret")

    def refund(self, request: object) -> object:
        from application.payment_gateway import RefundResult

        self.refunds.append(request)
        return RefundResult("re_1", "succeeded")

    def subscribe(self, listener: object) -> None:
        pass


def _paid(w, listing_id, at=NOW):  # type: ignore[no-untyped-def]
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-04", quantity=1, guests=2, at=at
    )
    gateway = _NoGateway()
    payments = Payments(w.bookings, gateway)  # type: ignore[arg-type]
    payments.start(w.renter, booking_id, at)
    total = w.bookings.get(booking_id).quote["total"]
    event = GatewayEvent(
        "evt_1",
        "charge.succeeded",
        payment_id_for(booking_id),
        booking_id,
        "ch_1",
        Money(total, "EUR"),
    )
    payments.handle(event, at + timedelta(minutes=1))
    return booking_id, payments, gateway, event


def test_captured_charge_confirms_the_booking_and_the_reservation() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id, payments, _, event = _paid(w, listing_id)
    assert w.bookings.get(booking_id).status == CONFIRMED
    allocation = w.bookings.calendar(listing_id).allocation(booking_id)
    assert allocation is not None and allocation["kind"] == "reservation"
    assert payments.handle(event, NOW + timedelta(minutes=2)) == 0  # duplicate delivery


def test_charge_arriving_after_the_hold_lapsed_is_refunded_and_the_booking_lapses() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-04", quantity=1, guests=2, at=NOW
    )
    gateway = _NoGateway()
    payments = Payments(w.bookings, gateway)  # type: ignore[arg-type]
    payments.start(w.renter, booking_id, NOW)
    event = GatewayEvent(
        "evt_1", "charge.succeeded", payment_id_for(booking_id), booking_id, "ch_1", Money(1, "EUR")
    )
    payments.handle(event, NOW + timedelta(minutes=16))
    assert w.bookings.get(booking_id).status == CANCELLED
    assert len(gateway.refunds) == 1


def test_failed_charge_cancels_and_frees_the_units() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-04", quantity=1, guests=2, at=NOW
    )
    payments = Payments(w.bookings, _NoGateway())  # type: ignore[arg-type]
    payments.start(w.renter, booking_id, NOW)
    event = GatewayEvent(
        "evt_2",
        "charge.failed",
        payment_id_for(booking_id),
        booking_id,
        "ch_1",
        Money(1, "EUR"),
        "card_declined",
    )
    payments.handle(event, NOW)
    assert w.bookings.get(booking_id).status == CANCELLED
    assert w.bookings.calendar(listing_id).allocation(booking_id) is None


def test_confirmed_booking_runs_its_course_through_the_deadlines() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id, _, _, _ = _paid(w, listing_id)
    booking = w.bookings.get(booking_id)
    start_at, end_at = booking.deadline("start_at"), booking.deadline("end_at")
    assert start_at is not None and end_at is not None
    assert w.bookings.begin(booking_id, start_at - timedelta(seconds=1)) == 0
    assert w.bookings.get(booking_id).status == CONFIRMED
    w.bookings.begin(booking_id, start_at)
    assert w.bookings.get(booking_id).status == IN_PROGRESS
    w.bookings.finish(booking_id, end_at)
    assert w.bookings.get(booking_id).status == AWAITING_RETURN_INSPECTION
    w.bookings.complete(Actor.system(), booking_id, end_at + timedelta(hours=48))
    assert w.bookings.get(booking_id).status == COMPLETED


def test_stale_deadline_commands_are_no_ops() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id, _, _, _ = _paid(w, listing_id)
    stale_version = 1
    assert w.bookings.expire(booking_id, NOW + timedelta(days=1), if_version=stale_version) == 0
    assert w.bookings.get(booking_id).status == CONFIRMED


def test_renter_cancellation_refunds_per_the_policy_snapshot() -> None:
    w = make_world()
    listing_id = w.active_listing(cancellation_policy="flexible")
    booking_id, _, _, _ = _paid(w, listing_id)
    w.bookings.cancel(w.renter, booking_id, "plans changed", NOW + timedelta(days=1))
    booking = w.bookings.get(booking_id)
    assert booking.status == CANCELLED
    assert booking.refund_due == {"amount": booking.quote["total"], "currency": "EUR"}
    assert w.bookings.calendar(listing_id).allocation(booking_id) is None


def test_strangers_cannot_see_or_cancel_a_booking() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-02", quantity=1, guests=1, at=NOW
    )
    stranger = Actor(__import__("uuid").uuid4(), "user")
    with pytest.raises(NotFoundError):
        w.bookings.cancel(stranger, booking_id, "no", NOW)


def test_a_cancelled_booking_cannot_be_confirmed() -> None:
    w = make_world()
    listing_id = w.active_listing()
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-02", quantity=1, guests=1, at=NOW
    )
    w.bookings.cancel(w.renter, booking_id, "changed my mind", NOW)
    booking = w.bookings.get(booking_id)
    with pytest.raises(InvalidTransition):
        booking.confirm(Actor.system().id, NOW)
