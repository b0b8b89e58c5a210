"""What a notification is: its kinds, channels, which mail is transactional, and its id.

Here, below both layers, because the notifications projection writes them and the
application (preferences, the mail dispatcher) reads them, and neither may import the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from hashlib import sha1
from typing import Any
from uuid import NAMESPACE_URL, UUID, SafeUUID, uuid5

from domain.errors import RuleViolation

_NAMESPACE = uuid5(NAMESPACE_URL, "https://rentbook.dev/notifications")

IN_APP, EMAIL = "in_app", "email"
CHANNELS = (IN_APP, EMAIL)

BOOKING_KINDS = (
    "booking_requested",
    "booking_approved",
    "booking_declined",
    "booking_confirmed",
    "booking_cancelled",
    "booking_expired",
    "payment_failed",
    "deposit_declined",
    "refund_sent",
    "payout_sent",
)
OTHER_KINDS = (
    "new_message",
    "review_published",
    "dispute_opened",
    "dispute_updated",
    "listing_approved",
    "listing_rejected",
    "calendar_conflict",
)
REMINDER_KINDS = ("checkin_tomorrow", "review_request", "hold_expiring", "request_awaiting_answer")
SECURITY_KINDS = ("verify_email", "password_reset")  # sent at once by the Mailer, no outbox
KINDS = BOOKING_KINDS + OTHER_KINDS + REMINDER_KINDS + SECURITY_KINDS

# Receipts and security mail: their email cannot be turned off (in-app can).
TRANSACTIONAL = frozenset({"booking_confirmed", "refund_sent", "payout_sent", *SECURITY_KINDS})


def is_locked(kind: str, channel: str) -> bool:
    """Whether a preference can never be switched off."""
    return channel == EMAIL and kind in TRANSACTIONAL


@dataclass(frozen=True)
class Draft:
    """One notification a rule derives from one event, before it gets its id."""

    recipient: UUID
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def notification_id(source: str, recipient: UUID | str, kind: str) -> UUID:
    """Derived from (event, recipient, kind): a rebuild or a replay gives the same id.
    `source` names the event by its aggregate and version (`{originator_id}:{version}`);
    `recipient` may come as its text (`str(recipient)`): the same id."""
    return name_based(_NAMESPACE, f"{source}|{recipient}|{kind}")


def outbox_id(notification: UUID, channel: str = EMAIL) -> UUID:
    return name_based(notification, channel)


_VERSION_5 = (0x8000 << 48) | (5 << 76)  # RFC 4122 variant and version bits
_CLEARED = ~((0xC000 << 48) | (0xF000 << 64))


def name_based(namespace: UUID, name: str) -> UUID:
    """`uuid5(namespace, name)`, equal in every respect, at two thirds of the cost: a view
    rebuild derives two of these per notification, and `UUID.__init__`'s argument checks
    were a third of each."""
    digest = sha1(namespace.bytes + name.encode()).digest()
    value = (int.from_bytes(digest[:16]) & _CLEARED) | _VERSION_5
    made = object.__new__(UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", SafeUUID.unknown)
    return made


def check_preference(kind: str, channel: str, enabled: bool) -> None:
    """Refuses unknown kinds and channels, and turning off transactional mail."""
    if kind not in KINDS:
        raise RuleViolation("unknown_notification_kind", f"no notification kind {kind!r}")
    if channel not in CHANNELS:
        raise RuleViolation("unknown_channel", f"channel must be one of {', '.join(CHANNELS)}")
    if not enabled and is_locked(kind, channel):
        raise RuleViolation(
            "transactional_mail", f"{kind} email is transactional and cannot be turned off"
        )
