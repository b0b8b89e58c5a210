"""Which events notify whom: ONE registry, one small function per event class.

A rule gets the event and the facts the notifications view keeps (bookings, listings,
disputes by id) and returns the drafts it makes: (recipient, kind, data). Adding a kind is a
function and a line in `RULES` (e.g. a `Conversation.MessagePosted` rule for "new message").
Rules are pure: a rebuild runs them again on the same events and gets the same drafts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain import booking as b
from domain.booking import Booking as _Booking
from domain.calendar_feed import CalendarFeed as _CalendarFeed
from domain.conversation import Conversation as _Conversation
from domain.dispute import Dispute as _Dispute
from domain.listing import Listing as _Listing
from domain.notifications import Draft
from domain.payment import Payment as _Payment
from domain.reminders import Reminder as _Reminder
from domain.review import BookingReviews as _BookingReviews

# @event classes are made at runtime, where mypy cannot see them.
Booking: Any = _Booking
Dispute: Any = _Dispute
Listing: Any = _Listing
Payment: Any = _Payment
Reminder: Any = _Reminder
BookingReviews: Any = _BookingReviews
Conversation: Any = _Conversation
CalendarFeed: Any = _CalendarFeed


@dataclass
class Facts:
    """What the view knows besides the event: rows by id (mutable dicts)."""

    bookings: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    listings: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[UUID, dict[str, Any]] = field(default_factory=dict)

    def booking(self, booking_id: UUID) -> dict[str, Any] | None:
        return self.bookings.get(booking_id)


Rule = Callable[[Any, Facts], list[Draft]]


def booking_data(row: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """What every booking notification carries, for the in-app list and the mail templates."""
    return {
        "booking_id": str(row["id"]),
        "listing_id": str(row["listing_id"]),
        "listing_title": row["listing_title"],
        "start": row["start"],
        "end": row["end"],
        "start_at": row["start_at"],
        "timezone": row["timezone"],
        "total": row["total"],
        "currency": row["currency"],
        **extra,
    }


def _to(event: Any, facts: Facts, kind: str, *parties: str, **extra: Any) -> list[Draft]:
    row = facts.booking(event.originator_id)
    if row is None:
        return []
    data = booking_data(row, **extra)
    recipients = dict.fromkeys(row[f"{p}_id"] for p in parties)  # unique, in order
    return [Draft(r, kind, data) for r in recipients]


def placed(event: Any, facts: Facts) -> list[Draft]:
    if event.status != b.PENDING_OWNER_APPROVAL:
        return []  # instant book: the owner hears of it once it is confirmed
    return _to(event, facts, "booking_requested", "owner", message=event.message)


def approved(event: Any, facts: Facts) -> list[Draft]:
    return _to(event, facts, "booking_approved", "renter")


def declined(event: Any, facts: Facts) -> list[Draft]:
    return _to(event, facts, "booking_declined", "renter", reason=event.reason)


def confirmed(event: Any, facts: Facts) -> list[Draft]:
    return _to(event, facts, "booking_confirmed", "renter", "owner")


def cancelled(event: Any, facts: Facts) -> list[Draft]:
    # Whoever cancelled knows it; the other party (both, when an admin did) hears of it.
    parties = [p for p in ("renter", "owner") if p != event.role]
    refund = event.refund if isinstance(event.refund, dict) else {}
    extra = {"reason": event.reason, "by_role": event.role, "refund": refund.get("amount", 0)}
    return _to(event, facts, "booking_cancelled", *parties, **extra)


def expired(event: Any, facts: Facts) -> list[Draft]:
    return _to(event, facts, "booking_expired", "renter", "owner")


def payment_failed(event: Any, facts: Facts) -> list[Draft]:
    return _to(event, facts, "payment_failed", "renter", reason=event.reason)


def deposit_declined(event: Any, facts: Facts) -> list[Draft]:
    """The renter hears the hold was declined (the booking waits for it until its hold on the
    units lapses). The first such events named no booking: nobody to tell."""
    row = facts.booking(event.booking_id) if event.booking_id else None
    if row is None:
        return []
    return [Draft(row["renter_id"], "deposit_declined", booking_data(row, reason=event.reason))]


def _payment_to(event: Any, facts: Facts, kind: str, party: str) -> list[Draft]:
    row = facts.booking(event.booking_id)
    if row is None:
        return []
    data = booking_data(row, amount=event.amount, amount_currency=event.currency)
    return [Draft(row[f"{party}_id"], kind, data)]


def refund_sent(event: Any, facts: Facts) -> list[Draft]:
    return _payment_to(event, facts, "refund_sent", "renter")


def payout_sent(event: Any, facts: Facts) -> list[Draft]:
    return _payment_to(event, facts, "payout_sent", "owner")


def message_posted(event: Any, facts: Facts) -> list[Draft]:
    """The recipient hears that a message arrived, not what it says: masking of contact
    details is the conversations view's policy, applied when the message is read."""
    listing = facts.listings.get(event.listing_id) or {}
    data = {
        "conversation_id": str(event.originator_id),
        "message_id": str(event.message_id),
        "listing_id": str(event.listing_id),
        "listing_title": listing.get("title", ""),
        "booking_id": str(event.booking_id) if event.booking_id else None,
        "sender_role": event.sender_role,
    }
    return [Draft(event.recipient_id, "new_message", data)]


def review_published(event: Any, facts: Facts) -> list[Draft]:
    listing = facts.listings.get(event.listing_id) or {}
    extra = {"listing_id": str(event.listing_id), "listing_title": listing.get("title", "")}
    return [
        Draft(
            r["reviewee_id"],
            "review_published",
            {**extra, "review_id": str(r["review_id"]), "rating": r["rating"]},
        )
        for r in event.ratings
    ]


def _dispute_to(event: Any, facts: Facts, kind: str, parties: list[str]) -> list[Draft]:
    dispute = facts.disputes.get(event.originator_id)
    if dispute is None:
        return []
    row = facts.booking(dispute["booking_id"])
    extra = booking_data(row) if row is not None else {"booking_id": str(dispute["booking_id"])}
    data = {**extra, "dispute_id": str(event.originator_id), "update": type(event).__name__}
    return [Draft(dispute[f"{p}_id"], kind, data) for p in parties]


def dispute_opened(event: Any, facts: Facts) -> list[Draft]:
    other = "owner" if event.role == "renter" else "renter"  # the opener knows
    return _dispute_to(event, facts, "dispute_opened", [other])


def dispute_updated(event: Any, facts: Facts) -> list[Draft]:
    return _dispute_to(event, facts, "dispute_updated", ["renter", "owner"])


def dispute_information_requested(event: Any, facts: Facts) -> list[Draft]:
    return _dispute_to(event, facts, "dispute_updated", [event.to])


def dispute_responded(event: Any, facts: Facts) -> list[Draft]:
    other = "owner" if event.role == "renter" else "renter"
    return _dispute_to(event, facts, "dispute_updated", [other])


def _listing_to(event: Any, facts: Facts, kind: str, **extra: Any) -> list[Draft]:
    listing = facts.listings.get(event.originator_id)
    if listing is None:
        return []
    data = {"listing_id": str(event.originator_id), "listing_title": listing["title"], **extra}
    return [Draft(listing["owner_id"], kind, data)]


def listing_approved(event: Any, facts: Facts) -> list[Draft]:
    return _listing_to(event, facts, "listing_approved")


def listing_rejected(event: Any, facts: Facts) -> list[Draft]:
    return _listing_to(event, facts, "listing_rejected", reason=event.reason)


def calendar_conflict(event: Any, facts: Facts) -> list[Draft]:
    """An imported feed's event overlaps Rentbook bookings: it was not blocked, so the owner
    must settle it (on the other platform, or with the renter). Told once per overlap: the
    event carries only the conflicts the previous sync had not found."""
    fresh = getattr(event, "new_conflicts", None) or []
    rows = [facts.booking(UUID(str(i))) for c in fresh for i in c.get("booking_ids") or ()]
    known = [r for r in rows if r is not None]
    if not known:
        return []
    conflicts = [
        {k: c.get(k) for k in ("uid", "summary", "start", "end", "booking_ids")} for c in fresh
    ]
    data = {
        "feed_id": str(event.originator_id),
        "listing_id": str(known[0]["listing_id"]),
        "listing_title": known[0]["listing_title"],
        "timezone": known[0]["timezone"],
        "start": conflicts[0]["start"],
        "end": conflicts[0]["end"],
        "count": len(conflicts),
        "conflicts": conflicts,
    }
    # The owner of the booked listing is the feed's owner (a feed belongs to its listing).
    return [
        Draft(owner, "calendar_conflict", data)
        for owner in dict.fromkeys(r["owner_id"] for r in known)
    ]


REMINDER_PARTIES = {
    "checkin_tomorrow": ("renter", "owner"),
    "review_request": ("renter", "owner"),
    "hold_expiring": ("renter",),
    "request_awaiting_answer": ("owner",),
}


def reminder(event: Any, facts: Facts) -> list[Draft]:
    row = facts.booking(event.booking_id)
    if row is None:
        return []
    data = booking_data(row)
    return [Draft(row[f"{p}_id"], event.kind, data) for p in REMINDER_PARTIES[event.kind]]


RULES: dict[type, Rule] = {
    Booking.Placed: placed,
    Booking.Approved: approved,
    Booking.Declined: declined,
    Booking.Confirmed: confirmed,
    Booking.Cancelled: cancelled,
    Booking.Expired: expired,
    Booking.PaymentFailed: payment_failed,
    Payment.DepositDeclined: deposit_declined,
    Payment.RefundSucceeded: refund_sent,
    Payment.TransferSent: payout_sent,
    Conversation.MessagePosted: message_posted,
    BookingReviews.Published: review_published,
    Dispute.Opened: dispute_opened,
    Dispute.Assigned: dispute_updated,
    Dispute.InformationRequested: dispute_information_requested,
    Dispute.Responded: dispute_responded,
    Dispute.Resolved: dispute_updated,
    Dispute.Withdrawn: dispute_updated,
    Listing.Approved: listing_approved,
    Listing.Rejected: listing_rejected,
    Reminder.Issued: reminder,
    CalendarFeed.Synced: calendar_conflict,
}
