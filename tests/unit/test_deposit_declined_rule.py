"""The deposit_declined rule: the renter (only) hears a declined hold with the booking's data
and the reason; a DepositDeclined stored before it named its booking notifies nobody."""

from __future__ import annotations

from types import SimpleNamespace

from projections import notification_rules as rules
from tests.unit.test_notification_rules import BOOKING, RENTER, facts


def test_the_renter_hears_the_hold_was_declined_and_why() -> None:
    declined = SimpleNamespace(booking_id=BOOKING, reason="insufficient_funds")
    (draft,) = rules.deposit_declined(declined, facts())
    assert (draft.recipient, draft.kind) == (RENTER, "deposit_declined")
    assert draft.data["reason"] == "insufficient_funds"
    assert draft.data["booking_id"] == str(BOOKING) and draft.data["listing_title"] == "Loft"


def test_an_event_without_its_booking_notifies_nobody() -> None:
    assert rules.deposit_declined(SimpleNamespace(booking_id=None, reason="x"), facts()) == []
    unknown = SimpleNamespace(booking_id=BOOKING, reason="x")
    assert rules.deposit_declined(unknown, rules.Facts()) == []
