"""Whether a listing can be booked for a period: the rules shared by quotes and bookings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from domain.calendar import ListingCalendar
from domain.errors import RuleViolation
from domain.listing import Listing
from domain.periods import (
    SLOT_SECONDS,
    end_instant,
    is_open,
    parse_period,
    period_keys,
    start_instant,
)


@dataclass(frozen=True)
class Period:
    start: date | datetime
    end: date | datetime
    keys: list[int]
    start_at: datetime
    end_at: datetime

    @property
    def start_str(self) -> str:
        return self.start.isoformat()

    @property
    def end_str(self) -> str:
        return self.end.isoformat()


def buffer_slots(buffer_minutes: int) -> int:
    """Turnover buffers round up to whole hourly slots."""
    return math.ceil(buffer_minutes * 60 / SLOT_SECONDS) if buffer_minutes else 0


def resolve_period(listing: Listing, start: str, end: str) -> Period:
    unit, tz = listing.unit, listing.timezone
    s, e = parse_period(unit, start, end)
    keys = period_keys(unit, s, e, tz)
    return Period(s, e, keys, start_instant(unit, s, tz), end_instant(unit, e, tz))


def check_bookable(
    listing: Listing,
    calendar: ListingCalendar,
    period: Period,
    *,
    quantity: int,
    guests: int,
    renter_id: UUID | None,
    at: datetime,
) -> None:
    """Raises RuleViolation (422) naming the first rule the request breaks."""
    spec = listing.spec
    listing.check_bookable()
    if renter_id is not None and renter_id == listing.owner_id:
        raise RuleViolation("own_listing", "owners cannot book their own listing")
    if quantity < 1 or quantity > spec["quantity"]:
        raise RuleViolation("bad_quantity", f"quantity must be between 1 and {spec['quantity']}")
    if guests < 1 or guests > spec["capacity"] * quantity:
        raise RuleViolation(
            "over_capacity", f"at most {spec['capacity'] * quantity} guests for {quantity} unit(s)"
        )
    length = len(period.keys)
    if length < spec["min_duration"]:
        raise RuleViolation("too_short", f"the minimum is {spec['min_duration']} {listing.unit}(s)")
    if spec["max_duration"] is not None and length > spec["max_duration"]:
        raise RuleViolation("too_long", f"the maximum is {spec['max_duration']} {listing.unit}(s)")
    if period.start_at <= at:
        raise RuleViolation("in_the_past", "the period has already started")
    if period.start_at < at + timedelta(hours=spec["advance_notice_hours"]):
        raise RuleViolation(
            "short_notice", f"book at least {spec['advance_notice_hours']} hours ahead"
        )
    if period.start_at > at + timedelta(days=spec["booking_window_days"]):
        raise RuleViolation(
            "beyond_window", f"bookings open {spec['booking_window_days']} days ahead"
        )
    if listing.unit == "hour" and calendar.opening_hours:
        closed = [
            k for k in period.keys if not is_open(k, listing.timezone, calendar.opening_hours)
        ]
        if closed:
            raise RuleViolation("closed_hours", "the listing is closed for part of that period")
