"""Which event fields are personal data, whose they are, and what they read as once erased.

Personal fields are stored encrypted with their subject's key (crypto-shredding): erasing a
user destroys the key, and every later read of those fields gives the `erased` value below.
The subject is named by a field of the event (`originator_id` for the user's own stream).
Fields not listed here are stored as they are (ids, money, dates, statuses, ratings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERASED = "[erased]"  # what an erased text field reads as


@dataclass(frozen=True)
class PersonalFields:
    subject: str  # the event field holding the subject's id
    fields: dict[str, Any]  # field -> the value it reads as after erasure
    legacy_subject: str | None = None  # whose plaintext it is in events stored before
    # Personal values inside a field: dotted path ("*" = each item of a list) -> erased value
    nested: dict[str, Any] = field(default_factory=dict)

    def subject_of(self, state: dict[str, Any], originator_id: Any) -> Any:
        """The subject's id in an event's state (the stream's id for `originator_id`)."""
        if self.subject == "originator_id":
            return originator_id
        found = state.get(self.subject)
        if found is None and self.legacy_subject is not None:
            return state.get(self.legacy_subject)
        return found


_USER_PROFILE = {"name": ERASED, "phone": None, "bio": ERASED}
_REPORT_NOTES = {"report.items.*.note": ERASED}

# Event class topics -> their personal fields.
PERSONAL_EVENTS: dict[str, PersonalFields] = {
    "domain.user:User.Registered": PersonalFields(
        "originator_id", {"email": ERASED, "name": ERASED, "phone": None}
    ),
    "domain.user:User.ProfileEdited": PersonalFields("originator_id", _USER_PROFILE),
    "domain.user:User.ProfileUpdated": PersonalFields(
        "originator_id", {"name": ERASED, "phone": None}
    ),
    # The email index's key is its own (`key_id`), destroyed with the user's: an erased
    # index no longer tells which user the address belonged to.
    "domain.user:EmailIndex.Claimed": PersonalFields("key_id", {"email": ERASED, "user_id": None}),
    "domain.user:EmailIndex.Reclaimed": PersonalFields(
        "key_id", {"email": ERASED, "user_id": None}
    ),
    "domain.booking:Booking.Placed": PersonalFields("renter_id", {"message": ERASED}),
    "domain.review:BookingReviews.Submitted": PersonalFields("reviewer_id", {"comment": ERASED}),
    "domain.review:BookingReviews.Replied": PersonalFields("by", {"text": ERASED}),
    "domain.dispute:Dispute.Opened": PersonalFields("by", {"description": ERASED}),
    "domain.dispute:Dispute.Responded": PersonalFields("by", {"message": ERASED}),
    "domain.conversation:Conversation.MessagePosted": PersonalFields("sender_id", {"text": ERASED}),
    # A condition report's notes are its author's free text; item names, statuses and photo
    # ids stay plain (a damage claim cites the items by name).
    "domain.booking:Booking.CheckedIn": PersonalFields("by", {}, nested=_REPORT_NOTES),
    "domain.booking:Booking.CheckedOut": PersonalFields("by", {}, nested=_REPORT_NOTES),
}

# Snapshots hold an aggregate's whole state: aggregate topic -> personal state fields
# (the subject is the snapshot's originator).
PERSONAL_SNAPSHOTS: dict[str, dict[str, Any]] = {
    "domain.user:User": {"email": ERASED, "name": ERASED, "phone": None, "bio": ERASED},
}

USER_ERASED_TOPIC = "domain.user:User.Erased"
