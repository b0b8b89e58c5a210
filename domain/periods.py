"""Calendar arithmetic for nights, days and hourly slots in a listing's IANA time zone.

Nights and days are local dates, keyed by `date.toordinal()`. An hourly slot is keyed by the
epoch second at which it starts, and a slot starts whenever the listing's wall clock shows a
whole hour. We step from slot to slot in UTC (3600 s), never in wall time, so the hour a
spring-forward skips is absent (a 23-slot day) and the hour a fall-back repeats is there twice
(a 25-slot day). In the rare zone whose offset moves by a fraction of an hour (Lord Howe
Island's 30-minute DST), the slot spanning the change is half an hour shorter or longer so that
the grid stays on the wall clock's whole hours.

Nonexistent local times (in a DST gap) resolve with `fold=0`, i.e. with the offset in force
before the gap, which lands just after it; ambiguous ones resolve to their first occurrence.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

from domain.errors import RuleViolation

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_SECONDS = 3600
CHECK_IN_HOUR = 15
CHECK_OUT_HOUR = 11
UNITS = ("night", "day", "hour")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND = timedelta(seconds=1)
_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[Zz]|[+-]\d{2}:\d{2})"
)
# Names the host's tz database carries that are not portable zones.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


# -- zones and instants ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def validate_timezone(tz: str) -> str:
    if not isinstance(tz, str) or tz not in _known_zones():
        raise RuleViolation("bad_timezone", f"{tz!r} is not an IANA time zone")
    return tz


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(validate_timezone(tz))


def _aware(value: object, what: str = "instant") -> datetime:
    if not isinstance(value, datetime):
        raise RuleViolation("bad_period", f"{what} must be a date-time with an offset")
    if value.tzinfo is None or value.utcoffset() is None:
        raise RuleViolation("naive_datetime", f"{what} must carry a time zone offset")
    return value


def _plain_date(value: object, what: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise RuleViolation("bad_period", f"{what} must be a calendar date")
    return value


def _epoch(instant: datetime) -> int:
    return (instant - _EPOCH) // _ONE_SECOND


def key_to_instant(key: int) -> datetime:
    return _EPOCH + timedelta(seconds=key)


def _local(key: int, zone: ZoneInfo) -> datetime:
    return key_to_instant(key).astimezone(zone)


def format_instant(instant: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, e.g. `2026-03-29T01:00:00Z` (the form quotes and APIs use)."""
    utc = _aware(instant).astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat() + "Z"


def local_date(instant: datetime, tz: str) -> date:
    return _aware(instant).astimezone(_zone(tz)).date()


# -- nights and days ------------------------------------------------------------------------


def night_keys(start: date, end: date) -> list[int]:
    first, last = _plain_date(start, "start"), _plain_date(end, "end")
    if last <= first:
        raise RuleViolation("bad_period", "end must be after start")
    return list(range(first.toordinal(), last.toordinal()))


def key_to_date(key: int) -> date:
    return date.fromordinal(key)


# -- hourly slots ---------------------------------------------------------------------------


def _is_aligned(key: int, zone: ZoneInfo) -> bool:
    local = _local(key, zone)
    return local.minute == 0 and local.second == 0


def _resolve(wall: datetime, zone: ZoneInfo, fold: int) -> int | None:
    """The epoch second of a naive wall time in `zone`, or None if the wall clock skips it."""
    key = _epoch(wall.replace(tzinfo=zone, fold=fold))
    return key if _local(key, zone).replace(tzinfo=None) == wall else None


def _next_aligned_after(key: int, zone: ZoneInfo) -> int:
    """The first whole wall-clock hour after `key`; only needed across fractional offset moves."""
    wall = _local(key, zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    found = (_resolve(wall + timedelta(hours=h), zone, fold) for h in range(4) for fold in (0, 1))
    return min((k for k in found if k is not None and k > key), default=key + SLOT_SECONDS)


def _next_slot(key: int, zone: ZoneInfo) -> int:
    step = key + SLOT_SECONDS
    return step if _is_aligned(step, zone) else _next_aligned_after(key, zone)


def _slot_bound(instant: object, zone: ZoneInfo, what: str) -> int:
    local = _aware(instant, what).astimezone(zone)
    if local.minute or local.second or local.microsecond:
        raise RuleViolation("slot_not_aligned", f"{what} must be on a whole hour of local time")
    return _epoch(local)


def slot_keys(start: datetime, end: datetime, tz: str) -> list[int]:
    zone = _zone(tz)
    first, last = _slot_bound(start, zone, "start"), _slot_bound(end, zone, "end")
    if last <= first:
        raise RuleViolation("bad_period", "end must be after start")
    keys: list[int] = []
    key = first
    while key < last:
        keys.append(key)
        key = _next_slot(key, zone)
    return keys


def day_slot_keys(day: date, tz: str) -> list[int]:
    zone = _zone(tz)
    day = _plain_date(day, "day")
    check_supported(day, "day")
    key = _epoch(datetime.combine(day, time(0), tzinfo=zone))  # first instant of the local day
    # The day is over once the next one has begun for the last time: a fall-back can take the
    # wall clock back into the previous date (Newfoundland's at 00:01, Antarctica/Casey's 3 h).
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    end = max(_epoch(next_midnight), _epoch(next_midnight.replace(fold=1)))
    if not _is_aligned(key, zone):
        key = _next_aligned_after(key, zone)
    keys: list[int] = []
    while key < end:
        if _local(key, zone).date() == day:
            keys.append(key)
        key = _next_slot(key, zone)
    return keys


# -- opening hours --------------------------------------------------------------------------


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def is_open(slot_key: int, tz: str, opening_hours: dict[str, list[list[str]]]) -> bool:
    """Whether the wall-clock hour the slot starts in lies inside one window of its weekday."""
    if not opening_hours:
        return True
    local = _local(slot_key, _zone(tz))
    begin = local.hour * 60 + local.minute
    windows = opening_hours.get(WEEKDAYS[local.weekday()], [])
    return any(_minutes(s) <= begin and begin + 60 <= _minutes(e) for s, e in windows)


def validate_opening_hours(opening_hours: dict) -> dict[str, list[list[str]]]:
    def bad(detail: str) -> RuleViolation:
        return RuleViolation("bad_opening_hours", detail)

    if not isinstance(opening_hours, dict):
        raise bad("opening hours must map weekdays to lists of [start, end] windows")
    unknown = sorted(str(d) for d in opening_hours if d not in WEEKDAYS)
    if unknown:
        raise bad(f"unknown weekday(s) {', '.join(unknown)}; use {', '.join(WEEKDAYS)}")
    normalised: dict[str, list[list[str]]] = {}
    for day in (d for d in WEEKDAYS if d in opening_hours):
        windows = opening_hours[day]
        if not isinstance(windows, list | tuple):
            raise bad(f"{day}: expected a list of [start, end] windows")
        pairs: list[list[str]] = []
        for window in windows:
            if not isinstance(window, list | tuple) or len(window) != 2:
                raise bad(f"{day}: each window is [start, end]")
            start, end = window
            if not all(isinstance(t, str) and _HHMM.fullmatch(t) for t in (start, end)):
                raise bad(f"{day}: times are HH:MM (24:00 allowed as an end)")
            if _minutes(start) >= _minutes(end):
                raise bad(f"{day}: window {start}-{end} must start before it ends")
            pairs.append([start, end])
        pairs.sort(key=lambda w: _minutes(w[0]))
        for before, after in pairwise(pairs):
            if _minutes(after[0]) < _minutes(before[1]):
                raise bad(f"{day}: {'-'.join(before)} overlaps {'-'.join(after)}")
        normalised[day] = pairs
    return normalised


# -- booking periods ------------------------------------------------------------------------


def _check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise RuleViolation("bad_unit", f"unit must be one of {', '.join(UNITS)}")
    return unit


def _boundary(unit: str, at: date | datetime, tz: str, night_hour: int) -> datetime:
    zone = _zone(tz)
    if _check_unit(unit) == "hour":
        return _aware(at).astimezone(UTC)
    hour = night_hour if unit == "night" else 0
    wall = datetime.combine(_plain_date(at, "date"), time(hour), tzinfo=zone)
    return wall.astimezone(UTC)


def start_instant(unit: str, start: date | datetime, tz: str) -> datetime:
    return _boundary(unit, start, tz, CHECK_IN_HOUR)


def end_instant(unit: str, end: date | datetime, tz: str) -> datetime:
    return _boundary(unit, end, tz, CHECK_OUT_HOUR)


def period_keys(unit: str, start: date | datetime, end: date | datetime, tz: str) -> list[int]:
    if _check_unit(unit) == "hour":
        return slot_keys(_aware(start, "start"), _aware(end, "end"), tz)
    validate_timezone(tz)
    return night_keys(_plain_date(start, "start"), _plain_date(end, "end"))


# Rentals happen between these years; outside them date arithmetic in a zone can overflow.
FIRST_YEAR, LAST_YEAR = 1970, 9998


def check_supported(value: date | datetime, what: str) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise RuleViolation("bad_period", f"{what} must be between {FIRST_YEAR} and {LAST_YEAR}")


def parse_period(unit: str, start: str, end: str) -> tuple[date | datetime, date | datetime]:
    """Parses API strings (YYYY-MM-DD, or RFC 3339 with an offset for hours); end after start."""
    parsed: list[date | datetime] = []
    for what, text in (("start", start), ("end", end)):
        try:
            if _check_unit(unit) == "hour":
                if not isinstance(text, str) or not _RFC3339.fullmatch(text):
                    raise ValueError(text)
                parsed.append(datetime.fromisoformat(text.upper().replace("Z", "+00:00")))
            else:
                if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
                    raise ValueError(text)
                parsed.append(date.fromisoformat(text))
        except ValueError:
            expected = "RFC 3339 with an offset" if unit == "hour" else "YYYY-MM-DD"
            raise RuleViolation("bad_period", f"{what} {text!r} is not {expected}") from None
        check_supported(parsed[-1], what)
    if parsed[1] <= parsed[0]:
        raise RuleViolation("bad_period", "end must be after start")
    return parsed[0], parsed[1]
