"""Dispute use cases on the in-memory store, with bookings driven to their end through the
booking use cases and money observed through a fake of the payment
commands: opening, responses, assignment (resolution and withdrawal:
`test_disputes_resolution.py`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.context import Actor
from application.disputes import Disputes
from application.store import EventStore
from domain.booking import AWAITING_RETURN_INSPECTION, COMPLETED, DISPUTED
from domain.dispute import AWAITING_INFORMATION, OPEN, UNDER_REVIEW
from domain.errors import InvalidTransition, NotFoundError, PermissionDenied, RuleViolation
from tests.application.disputes_support import (  # noqa: F401 (test_disputes_view imports them from here)
    DEPOSIT,
    Case,
    FakePayments,
    confirm_paid,
    ended_booking,
    make_case,
    record_payment,
    stranger,
)
from tests.builders import NOW, make_world


@pytest.fixture
def case(money_store: EventStore) -> Case:
    return make_case(w=make_world(money_store))


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
