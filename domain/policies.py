"""Cancellation policies: pure refund schedules of a booking's quote.

A renter who cancels gets back a share of the rental price (the quote's subtotal) set by the
policy's tier at the cancellation instant:

- flexible: 100 % until 24 h before the start, then 50 % until the start.
- moderate: 100 % until 5 days before the start, then 50 % until the start.
- strict: 100 % for 48 h after booking, but only when the start was at least 14 days away at
  booking; then 50 % until 7 days before the start; then 0 %.
- non_refundable: 0 %.

On top of that share, whatever the policy:
- the cleaning fee comes back whenever the cancellation is before the start (no cleaning
  happens), also under non_refundable, whose promise is about the rental price;
- the renter's service fee comes back only in a 100 % tier;
- tax comes back in proportion to the refunded part of what was taxed (subtotal + cleaning);
- from the start on, nothing comes back.

Tiers are half-open: a tier applies when the cancellation is strictly before its `until`, so a
cancellation exactly 24 h before the start of a flexible booking gets 50 %. Tiers that had
already ended when the booking was made are left out of its schedule.

An owner or an admin cancelling refunds the renter's whole `quote.total`, at any time.
The refund is never negative, never more than `quote.total`, and never grows as the
cancellation comes later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.errors import RuleViolation
from domain.money import Money, round_half_up
from domain.periods import format_instant
from domain.pricing import Quote

POLICIES = ("flexible", "moderate", "strict", "non_refundable")
ROLES = ("renter", "owner", "admin")
FULL, HALF, NONE = 10_000, 5_000, 0


@dataclass(frozen=True)
class RefundTier:
    until: datetime | None  # the tier applies to cancellations strictly before this; None = no end
    refund_bp: int  # share of the rental price (subtotal) refunded
    label: str


def validate_policy(name: str) -> str:
    if name not in POLICIES:
        raise RuleViolation(
            "bad_cancellation_policy", f"{name!r} is not one of {', '.join(POLICIES)}"
        )
    return name


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise RuleViolation("naive_datetime", f"{what} must be a date-time with an offset")
    return value.astimezone(UTC)


def _full(until: datetime) -> RefundTier:
    return RefundTier(until, FULL, "Full refund")


def _half(until: datetime) -> RefundTier:
    return RefundTier(until, HALF, "50% refund of the rental price")


def _cleaning_only(until: datetime) -> RefundTier:
    return RefundTier(until, NONE, "Cleaning fee refund only")


def refund_schedule(policy: str, *, start_at: datetime, booked_at: datetime) -> list[RefundTier]:
    validate_policy(policy)
    start, booked = _aware(start_at, "start_at"), _aware(booked_at, "booked_at")
    if policy == "flexible":
        timed = [_full(start - timedelta(hours=24)), _half(start)]
    elif policy == "moderate":
        timed = [_full(start - timedelta(days=5)), _half(start)]
    elif policy == "strict":
        far_ahead = start - booked >= timedelta(days=14)
        grace = [_full(booked + timedelta(hours=48))] if far_ahead else []
        timed = [*grace, _half(start - timedelta(days=7)), _cleaning_only(start)]
    else:
        timed = [_cleaning_only(start)]
    current = [tier for tier in timed if tier.until is not None and tier.until > booked]
    return [*current, RefundTier(None, NONE, "No refund once the booking has started")]


def refund_amount(
    policy: str,
    quote: Quote,
    *,
    start_at: datetime,
    booked_at: datetime,
    cancelled_at: datetime,
    by_role: str,
) -> Money:
    schedule = refund_schedule(policy, start_at=start_at, booked_at=booked_at)
    cancelled = _aware(cancelled_at, "cancelled_at")
    if by_role in ("owner", "admin"):
        return Money(quote.total, quote.currency)
    if by_role != "renter":
        raise RuleViolation("bad_role", f"by_role must be one of {', '.join(ROLES)}")
    if cancelled < _aware(booked_at, "booked_at"):
        raise RuleViolation("bad_cancellation_time", "a booking cannot be cancelled before made")
    if cancelled >= _aware(start_at, "start_at"):
        return Money.zero(quote.currency)
    tier = next(t for t in schedule if t.until is None or cancelled < t.until)
    rental = round_half_up(quote.subtotal * tier.refund_bp, FULL)
    service_fee = quote.service_fee if tier.refund_bp == FULL else 0
    taxed = quote.subtotal + quote.cleaning_fee
    tax = round_half_up(quote.tax * (rental + quote.cleaning_fee), taxed) if taxed else 0
    refund = rental + quote.cleaning_fee + service_fee + tax
    if quote.coupon_discount:  # the renter paid less: the same share of what was paid
        refund = round_half_up(refund * quote.total, quote.total + quote.coupon_discount)
    return Money(refund, quote.currency)


def schedule_as_dicts(tiers: Iterable[RefundTier]) -> list[dict[str, Any]]:
    """The schedule for API clients; refund_pct is the percentage of the rental price."""
    return [
        {
            "until": format_instant(t.until) if t.until is not None else None,
            "refund_pct": t.refund_bp / 100,
            "label": t.label,
        }
        for t in tiers
    ]
