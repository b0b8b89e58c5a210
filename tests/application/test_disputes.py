"""Dispute use cases on the in-memory store, with bookings driven to their end through the
booking use cases and money observed through a fake of the payment commands."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from application.context import Actor
from application.disputes import Disputes
from application.store import EventStore
from domain.booking import AWAITING_RETURN_INSPECTION, COMPLETED, DISPUTED, Booking
from domain.dispute import AWAITING_INFORMATION, OPEN, RESOLVED, UNDER_REVIEW, WITHDRAWN, Dispute
from domain.errors import InvalidTransition, NotFoundError, PermissionDenied, RuleViolation
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


@pytest.fixture
def case(money_store: EventStore) -> Case:
    return make_case(w=make_world(money_store))


def stranger() -> Actor:
    return Actor(uuid.uuid4(), "user")


# -- opening ---------------------------------------------------------------------------------


def test_the_owner_opens_a_dispute_and_the_booking_goes_disputed_in_the_same_save(
    case: Case,
) -> None:
    before = case.w.store.current_position()
    dispute_id = case.open()
    dispute = case.dispute(dispute_id)
    assert dispute.status == OPEN and dispute.opener_role == "owner"
    assert dispute.booking_id == case.booking_id
    assert dispute.claimed_amount == {"amount": 15_000, "currency": "EUR"}
    assert case.booking().status == DISPUTED
    # one record: the booking's and the dispute's events are the only ones since
    assert case.w.store.current_position() == before + 2


def test_the_renter_may_open_a_dispute_too(case: Case) -> None:
    dispute_id = case.open(case.w.renter, kind="not_as_described", claimed_amount=None)
    assert case.dispute(dispute_id).opener_role == "renter"


def test_a_dispute_after_the_48_hour_window_is_refused(case: Case) -> None:
    with pytest.raises(RuleViolation) as error:
        case.open(at=case.ended_at + timedelta(hours=48))
    assert error.value.code == "dispute_window_closed"
    assert case.booking().status == AWAITING_RETURN_INSPECTION


def test_a_completed_booking_can_still_be_disputed_within_the_window(case: Case) -> None:
    case.w.bookings.complete(case.w.owner, case.booking_id, case.ended_at + timedelta(hours=2))
    assert case.booking().status == COMPLETED
    case.open(at=case.ended_at + timedelta(hours=3))
    assert case.booking().status == DISPUTED


def test_strangers_get_404_and_admins_who_are_not_parties_403(case: Case) -> None:
    with pytest.raises(NotFoundError):
        case.open(stranger())
    with pytest.raises(PermissionDenied):
        case.open(case.w.admin)
    assert case.booking().status == AWAITING_RETURN_INSPECTION


def test_a_booking_that_has_not_ended_cannot_be_disputed(money_store: EventStore) -> None:
    w = make_world(money_store)
    listing_id = w.active_listing()
    booking_id, _ = w.bookings.place(
        w.renter, listing_id, start="2026-07-01", end="2026-07-04", quantity=1, guests=2, at=NOW
    )
    disputes = Disputes(w.store, w.bookings, FakePayments())
    with pytest.raises(RuleViolation):
        disputes.open(
            w.renter,
            booking_id,
            kind="other",
            description="x",
            claimed_amount=None,
            evidence=[],
            at=NOW,
        )


def test_only_one_dispute_is_live_per_booking(case: Case) -> None:
    case.open()
    with pytest.raises(InvalidTransition):
        case.open(case.w.renter)


def test_bad_evidence_is_refused(case: Case) -> None:
    with pytest.raises(RuleViolation) as error:
        case.open(evidence=["javascript:alert(1)"])
    assert error.value.code == "bad_evidence_url"


def test_while_disputed_the_inspection_deadline_does_not_complete_the_booking(
    case: Case,
) -> None:
    case.open()
    window_end = case.booking().deadline("inspection_ends_at")
    assert window_end is not None
    assert case.w.bookings.complete(Actor.system(), case.booking_id, window_end) == 0
    assert case.booking().status == DISPUTED


# -- responses, assignment, information --------------------------------------------------------


def test_the_other_party_responds_but_the_opener_only_when_asked(case: Case) -> None:
    dispute_id = case.open()
    at = case.ended_at + timedelta(hours=2)
    case.disputes.respond(case.w.renter, dispute_id, "It was already bent.", [], at)
    with pytest.raises(PermissionDenied):
        case.disputes.respond(case.w.owner, dispute_id, "No it was not.", [], at)
    with pytest.raises(NotFoundError):
        case.disputes.respond(stranger(), dispute_id, "Me too", [], at)
    assert [r["role"] for r in case.dispute(dispute_id).responses] == ["renter"]


def test_an_admin_assigns_asks_and_the_answer_returns_it_to_review(case: Case) -> None:
    dispute_id = case.open()
    at = case.ended_at + timedelta(hours=2)
    case.disputes.assign(case.w.admin, dispute_id, None, at)
    dispute = case.dispute(dispute_id)
    assert dispute.status == UNDER_REVIEW and dispute.assigned_admin == case.w.admin.id
    assert dispute.deadlines["first_action_due"] is None
    case.disputes.request_information(
        case.w.admin,
        dispute_id,
        to="owner",
        question="Photos from before the rental?",
        due_at=at + timedelta(days=2),
        at=at,
    )
    assert case.dispute(dispute_id).status == AWAITING_INFORMATION
    case.disputes.respond(case.w.owner, dispute_id, "Here.", ["https://example.com/before.jpg"], at)
    dispute = case.dispute(dispute_id)
    assert dispute.status == UNDER_REVIEW
    assert {"by": "owner", "url": "https://example.com/before.jpg"} in dispute.evidence


def test_only_admins_assign_and_only_to_admins(case: Case) -> None:
    dispute_id = case.open()
    at = case.ended_at + timedelta(hours=2)
    with pytest.raises(PermissionDenied):
        case.disputes.assign(case.w.renter, dispute_id, None, at)
    with pytest.raises(RuleViolation) as error:
        case.disputes.assign(case.w.admin, dispute_id, case.w.renter.id, at)
    assert error.value.code == "not_an_admin"
    with pytest.raises(NotFoundError):
        case.disputes.assign(stranger(), dispute_id, None, at)


def test_disputes_are_visible_to_parties_and_admins_only(case: Case) -> None:
    dispute_id = case.open()
    for actor in (case.w.renter, case.w.owner, case.w.admin):
        assert case.disputes.get(actor, dispute_id).id == dispute_id
    with pytest.raises(NotFoundError):
        case.disputes.get(stranger(), dispute_id)
    with pytest.raises(NotFoundError):
        case.disputes.get(case.w.admin, case.booking_id)  # not a dispute


# -- resolution --------------------------------------------------------------------------------


def test_a_split_resolution_completes_the_booking_then_moves_money_through_payments(
    case: Case,
) -> None:
    dispute_id = case.open()
    at = case.ended_at + timedelta(days=1)
    case.disputes.resolve(
        case.w.admin,
        dispute_id,
        outcome="split",
        refund_to_renter=Money(5_000, "EUR"),
        deposit_to_owner=Money(8_000, "EUR"),
        note="Half each.",
        at=at,
    )
    dispute = case.dispute(dispute_id)
    assert dispute.status == RESOLVED and dispute.resolution is not None
    assert dispute.resolution["refund_to_renter"] == {"amount": 5_000, "currency": "EUR"}
    assert case.booking().status == COMPLETED
    assert case.payments.calls == [
        ("refund", case.booking_id, Money(5_000, "EUR"), case.w.admin.id),
        ("capture_deposit", case.booking_id, Money(8_000, "EUR"), case.w.admin.id),
    ]


def test_a_rejected_dispute_releases_the_deposit_still_held(case: Case) -> None:
    dispute_id = case.open()
    case.disputes.resolve(
        case.w.admin,
        dispute_id,
        outcome="rejected",
        refund_to_renter=None,
        deposit_to_owner=None,
        note="No evidence of damage.",
        at=case.ended_at + timedelta(days=1),
    )
    assert case.payments.calls == [("release_deposit", case.booking_id, case.w.admin.id)]
    assert case.booking().status == COMPLETED


@pytest.mark.parametrize(
    ("refund", "deposit", "code"),
    [
        (10**9, 0, "bad_refund_to_renter"),  # more than was captured
        (0, DEPOSIT["amount"] + 1, "bad_deposit_to_owner"),  # more than the hold
    ],
)
def test_a_resolution_beyond_what_the_payment_allows_is_refused(
    case: Case, refund: int, deposit: int, code: str
) -> None:
    dispute_id = case.open()
    with pytest.raises(RuleViolation) as error:
        case.disputes.resolve(
            case.w.admin,
            dispute_id,
            outcome="split",
            refund_to_renter=Money(refund, "EUR"),
            deposit_to_owner=Money(deposit, "EUR"),
            note="Too much.",
            at=case.ended_at + timedelta(days=1),
        )
    assert error.value.code == code
    assert case.payments.calls == []
    assert case.booking().status == DISPUTED
    assert case.dispute(dispute_id).status == OPEN


def test_without_a_payment_nothing_can_be_refunded_or_captured(
    money_store: EventStore,
) -> None:
    case = make_case(w=make_world(money_store), paid=False)
    dispute_id = case.open(case.w.renter)
    with pytest.raises(RuleViolation):
        case.disputes.resolve(
            case.w.admin,
            dispute_id,
            outcome="renter_favour",
            refund_to_renter=Money(1, "EUR"),
            deposit_to_owner=None,
            note="Refund.",
            at=case.ended_at + timedelta(days=1),
        )
    case.disputes.resolve(
        case.w.admin,
        dispute_id,
        outcome="rejected",
        refund_to_renter=None,
        deposit_to_owner=None,
        note="Nothing to move.",
        at=case.ended_at + timedelta(days=1),
    )
    assert case.payments.calls == []  # no hold to release either


def test_only_admins_resolve(case: Case) -> None:
    dispute_id = case.open()
    with pytest.raises(PermissionDenied):
        case.disputes.resolve(
            case.w.owner,
            dispute_id,
            outcome="owner_favour",
            refund_to_renter=None,
            deposit_to_owner=Money(1_000, "EUR"),
            note="Mine.",
            at=case.ended_at + timedelta(days=1),
        )
    assert case.payments.calls == []


def test_a_resolved_dispute_cannot_be_resolved_again(case: Case) -> None:
    dispute_id = case.open()
    resolve: dict[str, Any] = {
        "outcome": "rejected",
        "refund_to_renter": None,
        "deposit_to_owner": None,
        "note": "No.",
        "at": case.ended_at + timedelta(days=1),
    }
    case.disputes.resolve(case.w.admin, dispute_id, **resolve)
    with pytest.raises(InvalidTransition):
        case.disputes.resolve(case.w.admin, dispute_id, **resolve)
    assert len(case.payments.calls) == 1


# -- withdrawal --------------------------------------------------------------------------------


def test_the_opener_withdraws_the_booking_completes_and_the_deposit_is_released(
    case: Case,
) -> None:
    dispute_id = case.open()
    at = case.ended_at + timedelta(hours=5)
    with pytest.raises(PermissionDenied):
        case.disputes.withdraw(case.w.renter, dispute_id, "Not mine to withdraw", at)
    case.disputes.withdraw(case.w.owner, dispute_id, "Found the receipt", at)
    assert case.dispute(dispute_id).status == WITHDRAWN
    assert case.booking().status == COMPLETED
    assert case.payments.calls == [("release_deposit", case.booking_id, case.w.owner.id)]
