"""Dispute use cases, resolved or withdrawn: money moves through the payment commands, within
what the payment allows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from application.store import EventStore
from domain.booking import COMPLETED, DISPUTED
from domain.dispute import OPEN, RESOLVED, WITHDRAWN
from domain.errors import InvalidTransition, PermissionDenied, RuleViolation
from domain.money import Money
from tests.application.disputes_support import (
    DEPOSIT,
    Case,
    make_case,
)
from tests.builders import make_world


@pytest.fixture
def case(money_store: EventStore) -> Case:
    return make_case(w=make_world(money_store))


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
