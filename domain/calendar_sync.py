"""Pure rules of calendar import: which calendar keys an external event takes, and how a
feed's events become blocks of a `ListingCalendar`.

An external event takes:
- nights: every night [check-in hour of d, check-out hour of d+1) it overlaps (all-day
  events: the nights from its first date up to, not including, its end date);
- days: every local day it overlaps;
- hours: every slot it overlaps (all-day events: every slot of those local days).
Keys outside the import window (from today to the horizon) are left out, so a feed's past
and far future never grow the calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.calendar import ListingCalendar
from domain.calendar_feed import feed_block_id
from domain.periods import SLOT_SECONDS, day_slot_keys, end_instant, start_instant

MAX_REASON = 200


@dataclass(frozen=True)
class Occurrence:
    """One external event (one instance of a recurring one), as the feed gave it."""

    key: str  # stable across fetches: its UID and start
    uid: str
    summary: str
    start: date | datetime  # a date for all-day events; aware datetimes otherwise
    end: date | datetime


@dataclass(frozen=True)
class Window:
    first_day: date  # inclusive, in the listing's time zone
    last_day: date  # exclusive


def _days(first: date, last: date) -> Iterable[date]:
    for n in range((last - first).days):
        yield first + timedelta(days=n)


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def occurrence_keys(unit: str, tz: str, occ: Occurrence, window: Window) -> list[int]:
    """The calendar keys `occ` takes on a listing booked by `unit` in zone `tz`."""
    lo, hi = window.first_day, window.last_day
    if not isinstance(occ.start, datetime):  # all-day
        end = occ.end if not isinstance(occ.end, datetime) else occ.end.date()
        first, last = max(occ.start, lo), min(max(end, occ.start + timedelta(days=1)), hi)
        if last <= first:
            return []
        if unit == "hour":
            return [k for d in _days(first, last) for k in day_slot_keys(d, tz)]
        return [d.toordinal() for d in _days(first, last)]
    zone = ZoneInfo(tz)
    start = occ.start
    end = occ.end if isinstance(occ.end, datetime) and occ.end > start else start
    local_first = start.astimezone(zone).date() - timedelta(days=1)
    local_last = end.astimezone(zone).date() + timedelta(days=2)
    first, last = max(local_first, lo), min(local_last, hi)
    if last <= first:
        return []
    s, e = _epoch(start), max(_epoch(end), _epoch(start) + 1)  # an instant still takes a slot
    keys: list[int] = []
    for d in _days(first, last):
        if unit == "hour":
            keys.extend(k for k in day_slot_keys(d, tz) if k < e and k + SLOT_SECONDS > s)
            continue
        if unit == "night":
            a = _epoch(start_instant("night", d, tz))
            b = _epoch(end_instant("night", d + timedelta(days=1), tz))
        else:
            a = _epoch(datetime.combine(d, datetime.min.time(), tzinfo=zone))
            b = _epoch(datetime.combine(d + timedelta(days=1), datetime.min.time(), tzinfo=zone))
        if a < e and b > s:
            keys.append(d.toordinal())
    return keys


def _key_text(unit: str, key: int) -> str:
    if unit == "hour":
        return datetime.fromtimestamp(key, tz=UTC).isoformat()
    return date.fromordinal(key).isoformat()


def apply_feed(
    calendar: ListingCalendar,
    feed_id: UUID,
    current: Mapping[str, str],
    wanted: Mapping[str, tuple[Occurrence, list[int]]],
    *,
    unit: str,
    reason: str,
    at: datetime,
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Makes the calendar's blocks of this feed match `wanted` (event key -> occurrence and
    its keys): removed events lose their block, changed ones are re-blocked, keys held or
    reserved by a Rentbook booking are left unblocked and reported as a conflict.

    Returns the feed's new block map (event key -> block id) and its conflicts. Applying
    the same `wanted` to the calendar it produced records nothing.
    """
    blocks: dict[str, str] = {}
    conflicts: list[dict[str, Any]] = []
    for key, block_id in sorted(current.items()):
        if key not in wanted and block_id in calendar.blocks:
            calendar.remove_block(UUID(block_id), at)
    for key, (occ, keys) in sorted(wanted.items()):
        busy = sorted(k for k in set(keys) if calendar.used(k, at))
        free = sorted(set(keys) - set(busy))
        if busy:
            bookings = sorted(
                {b for k in busy for b in calendar.by_key.get(str(k), ()) if _live(calendar, b, at)}
            )
            conflicts.append(
                {
                    "uid": occ.uid,
                    "summary": occ.summary,
                    "start": occ.start.isoformat(),
                    "end": occ.end.isoformat(),
                    "booking_ids": bookings,
                    "first_conflict": _key_text(unit, busy[0]),
                }
            )
        block_id = current.get(key) or str(feed_block_id(feed_id, key))
        existing = calendar.blocks.get(block_id)
        if existing is not None and existing["keys"] == free:
            blocks[key] = block_id
            continue
        if existing is not None:
            calendar.remove_block(UUID(block_id), at)
        if free:
            calendar.add_block(UUID(block_id), free, _reason(reason, occ.summary), at)
            blocks[key] = block_id
    return blocks, conflicts


def remove_feed_blocks(calendar: ListingCalendar, current: Mapping[str, str], at: datetime) -> None:
    for _, block_id in sorted(current.items()):
        if block_id in calendar.blocks:
            calendar.remove_block(UUID(block_id), at)


def _live(calendar: ListingCalendar, booking_id: str, at: datetime) -> bool:
    alloc = calendar.allocations.get(booking_id)
    return alloc is not None and calendar.is_live(alloc, at)


def _reason(prefix: str, summary: str) -> str:
    text = f"{prefix}: {summary}" if summary else prefix
    return text[:MAX_REASON]
