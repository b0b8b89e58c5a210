"""A damage claim is a dispute that cites condition-report items and evidence photos; disputes
recorded before claims could cite anything replay with none."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.dispute import MAX_EVIDENCE, Dispute
from domain.errors import RuleViolation
from tests.unit.test_dispute import AT, ENDS, OWNER, RENTER, opened


def test_an_owners_damage_claim_keeps_its_cited_items_and_photos() -> None:
    photo = uuid4()
    dispute = opened(by=OWNER, kind="damage", cited_items=["Sofa"], photo_ids=[photo, photo])
    assert dispute.opener_role == "owner" and dispute.kind == "damage"
    assert dispute.cited_items == ["Sofa"] and dispute.photo_ids == [str(photo)]


def test_too_many_evidence_photos_are_refused() -> None:
    with pytest.raises(RuleViolation) as error:
        opened(photo_ids=[uuid4() for _ in range(MAX_EVIDENCE + 1)])
    assert error.value.code == "too_much_evidence"


def test_an_opening_recorded_before_citations_existed_replays_with_none() -> None:
    dispute = Dispute.open(
        booking_id=uuid4(),
        renter_id=RENTER,
        owner_id=OWNER,
        booking_ends_at=ENDS,
        kind="damage",
        description="Bent wheel",
        claimed_amount=None,
        evidence=[],
        by=OWNER,
        at=AT,
    )
    (event,) = dispute.collect_events()
    for name in ("cited_items", "photo_ids"):  # as stored by the earlier version
        object.__delattr__(event, name)
    replayed = event.mutate(None)
    assert isinstance(replayed, Dispute)
    assert replayed.cited_items == [] and replayed.photo_ids == []
    assert replayed.opened_at == AT
