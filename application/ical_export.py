"""A listing's calendar as an RFC 5545 feed: one VEVENT per booking (live hold or
reservation) and per block, for each run of consecutive keys.

UIDs are derived from the booking or block id (and the run's index when a block has gaps),
so every fetch of the feed names the same period with the same UID. Nights and days are
all-day events (`VALUE=DATE`, end exclusive); hours are timed events in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from domain.calendar import ListingCalendar
from domain.listing import Listing
from domain.periods import SLOT_SECONDS

if TYPE_CHECKING:  # imported where a feed is rendered: most processes never render one
    import icalendar

PRODID = "-//Rentbook//Listing calendar//EN"
UID_DOMAIN = "rentbook.dev"


def _runs(keys: list[int], step: int) -> list[tuple[int, int]]:
    """(first, last) of each run of consecutive keys."""
    runs: list[tuple[int, int]] = []
    for key in sorted(set(keys)):
        if runs and key - runs[-1][1] == step:
            runs[-1] = (runs[-1][0], key)
        else:
            runs.append((key, key))
    return runs


def _event(
    uid: str, summary: str, first: int, last: int, unit: str, stamp: datetime
) -> icalendar.Event:
    import icalendar

    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    if unit == "hour":
        event.add("dtstart", datetime.fromtimestamp(first, tz=UTC))
        event.add("dtend", datetime.fromtimestamp(last + SLOT_SECONDS, tz=UTC))
    else:
        event.add("dtstart", date.fromordinal(first))
        event.add("dtend", date.fromordinal(last) + timedelta(days=1))
    event.add("summary", summary)
    event.add("transp", "OPAQUE")
    return event


def render_calendar(listing: Listing, calendar: ListingCalendar, at: datetime) -> bytes:
    """The feed's bytes; `at` is its DTSTAMP (when this copy was made)."""
    stamp = at.astimezone(UTC).replace(microsecond=0)
    unit, step = listing.unit, calendar.step
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Rentbook: {listing.spec.get('title', '')}"[:200])
    items: list[tuple[str, str, list[int]]] = [
        (f"booking-{bid}", "Reserved", alloc["keys"])
        for bid, alloc in sorted(calendar.allocations.items())
        if calendar.is_live(alloc, at)
    ]
    items += [
        (f"block-{block_id}", "Not available", block["keys"])
        for block_id, block in sorted(calendar.blocks.items())
    ]
    for name, summary, keys in items:
        runs = _runs(keys, step)
        for n, (first, last) in enumerate(runs):
            suffix = f"-{n}" if n else ""
            uid = f"{name}{suffix}@{UID_DOMAIN}"
            cal.add_component(_event(uid, summary, first, last, unit, stamp))
    return bytes(cal.to_ical())
