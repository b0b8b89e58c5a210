"""The notification rules as pure functions: money events and dispute updates reach the
right party with the booking's data; every rule is registered once per event class."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from domain.notifications import KINDS, REMINDER_KINDS, SECURITY_KINDS
from projections import notification_rules as rules
from projections.notification_rules import Facts

RENTER, OWNER, BOOKING, LISTING, DISPUTE = (uuid.uuid4() for _ in range(5))


def facts() -> Facts:
    booking = {
        "id": BOOKING,
        "listing_id": LISTING,
        "renter_id": RENTER,
        "owner_id": OWNER,
        "listing_title": "Loft",
        "start": "2026-06-10",
        "end": "2026-06-12",
        "start_at": "2026-06-10T14:00:00+00:00",
        "timezone": "Europe/Lisbon",
        "total": 25_000,
        "currency": "EUR",
    }
    dispute = {"id": DISPUTE, "booking_id": BOOKING, "renter_id": RENTER, "owner_id": OWNER}
    return Facts(bookings={BOOKING: booking}, disputes={DISPUTE: dispute})


def money(**kw: Any) -> Any:
    return SimpleNamespace(booking_id=BOOKING, amount=12_000, currency="EUR", **kw)


def test_a_refund_reaches_the_renter_and_a_payout_the_owner_with_the_amount() -> None:
    (refund,) = rules.refund_sent(money(), facts())
    (payout,) = rules.payout_sent(money(), facts())
    assert (refund.recipient, refund.kind) == (RENTER, "refund_sent")
    assert (payout.recipient, payout.kind) == (OWNER, "payout_sent")
    assert payout.data["amount"] == 12_000 and payout.data["listing_title"] == "Loft"


def test_money_for_an_unknown_booking_notifies_nobody() -> None:
    assert rules.refund_sent(money(), Facts()) == []


def test_dispute_updates_go_to_whom_they_concern() -> None:
    asked = SimpleNamespace(originator_id=DISPUTE, to="owner", role="admin")
    (only,) = rules.dispute_information_requested(asked, facts())
    assert only.recipient == OWNER and only.data["dispute_id"] == str(DISPUTE)
    opened = SimpleNamespace(originator_id=DISPUTE, role="renter")
    assert [d.recipient for d in rules.dispute_opened(opened, facts())] == [OWNER]
    answered = SimpleNamespace(originator_id=DISPUTE, role="owner")
    assert [d.recipient for d in rules.dispute_responded(answered, facts())] == [RENTER]
    resolved = SimpleNamespace(originator_id=DISPUTE, role="admin")
    assert {d.recipient for d in rules.dispute_updated(resolved, facts())} == {RENTER, OWNER}


def test_every_rule_makes_a_known_kind() -> None:
    made = {
        "booking_requested", "booking_approved", "booking_declined", "booking_confirmed",
        "booking_cancelled", "booking_expired", "payment_failed", "refund_sent", "payout_sent",
        "deposit_declined", "new_message", "review_published", "dispute_opened", "dispute_updated",
        "listing_approved", "listing_rejected", "calendar_conflict", *REMINDER_KINDS,
    }  # fmt: skip
    assert made | set(SECURITY_KINDS) == set(KINDS)
    assert len(rules.RULES) == 22


def test_a_message_notifies_its_recipient_without_its_text() -> None:
    conversation, message = uuid.uuid4(), uuid.uuid4()
    posted = SimpleNamespace(
        originator_id=conversation,
        message_id=message,
        listing_id=LISTING,
        booking_id=None,
        sender_id=RENTER,
        sender_role="renter",
        recipient_id=OWNER,
        text="call me on +351 912 345 678",
    )
    (draft,) = rules.message_posted(posted, Facts(listings={LISTING: {"title": "Loft"}}))
    assert (draft.recipient, draft.kind) == (OWNER, "new_message")
    assert draft.data["conversation_id"] == str(conversation)
    assert draft.data["listing_title"] == "Loft"
    assert "912" not in str(draft.data)
