"""Dispute rules: given events, when a command, then events or an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.dispute import Dispute
from domain.errors import InvalidTransition, PermissionDenied, RuleViolation
from domain.money import Money

ENDS = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
AT = ENDS + timedelta(hours=3)
RENTER, OWNER, ADMIN = uuid4(), uuid4(), uuid4()
PAID, HELD = Money(11_500, "EUR"), Money(20_000, "EUR")


def opened(**overrides: Any) -> Dispute:
    fields: dict[str, Any] = {
        "booking_id": uuid4(),
        "renter_id": RENTER,
        "owner_id": OWNER,
        "booking_ends_at": ENDS,
        "kind": "damage",
        "description": "The bike came back with a bent wheel.",
        "claimed_amount": Money(8_000, "EUR"),
        "evidence": ["https://photos.example.com/wheel.jpg"],
        "by": OWNER,
        "at": AT,
    }
    fields.update(overrides)
    dispute = Dispute.open(**fields)
    dispute.collect_events()
    return dispute


def names(dispute: Dispute) -> list[str]:
    return [type(e).__name__ for e in dispute.collect_events()]


def test_an_owner_opens_a_dispute_with_sla_deadlines_as_data() -> None:
    dispute = Dispute.open(
        booking_id=uuid4(),
        renter_id=RENTER,
        owner_id=OWNER,
        booking_ends_at=ENDS,
        kind="damage",
        description="Bent wheel.",
        claimed_amount=None,
        evidence=[],
        by=OWNER,
        at=AT,
    )
    (event,) = dispute.collect_events()
    assert type(event).__name__ == "Opened"
    assert (event.by, event.role, event.at) == (OWNER, "owner", AT)  # type: ignore[attr-defined]
    assert dispute.status == "open" and dispute.opener_role == "owner"
    assert dispute.deadlines == {
        "first_action_due": (AT + timedelta(hours=72)).isoformat(),
        "resolution_due": (AT + timedelta(days=7)).isoformat(),
    }


@pytest.mark.parametrize(
    "at", [ENDS - timedelta(seconds=1), ENDS + timedelta(hours=48), ENDS + timedelta(days=9)]
)
def test_a_dispute_outside_the_48_hours_after_the_end_is_refused(at: datetime) -> None:
    with pytest.raises(RuleViolation) as exc:
        opened(at=at)
    assert exc.value.code == "dispute_window_closed"


def test_only_the_renter_or_the_owner_opens_a_dispute() -> None:
    with pytest.raises(PermissionDenied):
        opened(by=uuid4())
    assert opened(by=RENTER).opener_role == "renter"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("kind", "vibes", "bad_dispute_type"),
        ("description", "  ", "description_required"),
        ("claimed_amount", Money(0, "EUR"), "bad_claimed_amount"),
        ("evidence", ["ftp://x.example/a"], "bad_evidence_url"),
        ("evidence", ["https://"], "bad_evidence_url"),
        ("evidence", ["https://a.example/x y"], "bad_evidence_url"),
        ("evidence", [f"https://a.example/{i}" for i in range(21)], "too_much_evidence"),
    ],
)
def test_bad_dispute_input_is_refused(field: str, value: object, code: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        opened(**{field: value})
    assert exc.value.code == code


def test_the_other_party_responds_with_evidence_but_the_opener_is_not_asked() -> None:
    dispute = opened()
    dispute.respond("It was bent already.", ["http://pics.example/before.png"], RENTER, AT)
    assert names(dispute) == ["Responded"]
    assert dispute.responses[0]["role"] == "renter"
    assert len(dispute.evidence) == 2
    with pytest.raises(PermissionDenied):
        dispute.respond("More.", [], OWNER, AT)
    with pytest.raises(PermissionDenied):
        dispute.respond("Me too.", [], uuid4(), AT)


def test_assignment_is_the_first_admin_action_and_starts_the_review() -> None:
    dispute = opened()
    dispute.assign(ADMIN, by=ADMIN, role="admin", at=AT + timedelta(hours=1))
    assert dispute.status == "under_review" and dispute.assigned_admin == ADMIN
    assert dispute.first_admin_action_at == (AT + timedelta(hours=1)).isoformat()
    assert dispute.deadlines["first_action_due"] is None
    with pytest.raises(PermissionDenied):
        dispute.assign(RENTER, by=RENTER, role="renter", at=AT)


def test_an_information_request_waits_for_that_party_and_their_answer_resumes_review() -> None:
    dispute = opened()
    dispute.assign(ADMIN, by=ADMIN, role="admin", at=AT)
    dispute.request_information(
        "owner", "Photos from before?", AT + timedelta(days=2), ADMIN, "admin", AT
    )
    assert dispute.status == "awaiting_information"
    dispute.respond("Only after, sorry.", [], RENTER, AT)
    assert dispute.status == "awaiting_information"
    dispute.respond("Here they are.", ["https://p.example/1.jpg"], OWNER, AT)
    assert dispute.status == "under_review"
    assert dispute.outstanding_requests("owner") == []


def test_an_information_request_needs_a_party_and_a_later_due_time() -> None:
    dispute = opened()
    with pytest.raises(RuleViolation):
        dispute.request_information("admin", "?", AT + timedelta(days=1), ADMIN, "admin", AT)
    with pytest.raises(RuleViolation):
        dispute.request_information("renter", "?", AT, ADMIN, "admin", AT)


def test_a_resolution_records_the_money_decided_within_the_limits() -> None:
    dispute = opened()
    dispute.resolve(
        "split",
        Money(2_000, "EUR"),
        Money(6_000, "EUR"),
        "Shared fault.",
        PAID,
        HELD,
        ADMIN,
        "admin",
        AT,
    )
    assert dispute.status == "resolved"
    assert dispute.resolution is not None
    assert dispute.resolution["deposit_to_owner"] == {"amount": 6_000, "currency": "EUR"}
    assert dispute.deadlines == {"first_action_due": None, "resolution_due": None}
    with pytest.raises(InvalidTransition):
        dispute.withdraw("changed my mind", OWNER, AT)


@pytest.mark.parametrize(
    ("outcome", "refund", "deposit", "code"),
    [
        ("split", 11_501, 0, "bad_refund_to_renter"),
        ("split", 0, 20_001, "bad_deposit_to_owner"),
        ("owner_favour", 1, 0, "outcome_mismatch"),
        ("renter_favour", 0, 1, "outcome_mismatch"),
        ("rejected", 0, 1, "outcome_mismatch"),
        ("maybe", 0, 0, "bad_outcome"),
    ],
)
def test_a_resolution_outside_limits_or_against_its_outcome_is_refused(
    outcome: str, refund: int, deposit: int, code: str
) -> None:
    with pytest.raises(RuleViolation) as exc:
        opened().resolve(
            outcome,
            Money(refund, "EUR"),
            Money(deposit, "EUR"),
            "n",
            PAID,
            HELD,
            ADMIN,
            "admin",
            AT,
        )
    assert exc.value.code == code


def test_only_an_admin_resolves() -> None:
    with pytest.raises(PermissionDenied):
        opened().resolve("rejected", None, None, "n", PAID, HELD, OWNER, "owner", AT)


def test_the_opener_withdraws_and_nobody_else() -> None:
    dispute = opened()
    with pytest.raises(PermissionDenied):
        dispute.withdraw("no", RENTER, AT)
    dispute.withdraw("Found the receipt.", OWNER, AT)
    assert dispute.status == "withdrawn"
    assert names(dispute) == ["Withdrawn"]
