"""Hourly slots in every IANA zone: whole local hours, an hour apart, as many as the day has."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given
from hypothesis import strategies as st

from domain.periods import SLOT_SECONDS, day_slot_keys, key_to_instant, slot_keys, validate_timezone

ZONES = sorted(z for z in available_timezones() if z not in ("localtime", "Factory"))
# Since 1980 every zone's offset is a whole number of quarter hours, which the oracle relies on.
FIRST, LAST = date(1980, 1, 1), date(2040, 12, 31)


def offset(key: int, zone: ZoneInfo) -> int:
    delta = key_to_instant(key).astimezone(zone).utcoffset()
    assert delta is not None
    return int(delta.total_seconds())


def midnight(day: date, zone: ZoneInfo) -> int:
    """The first instant of the local day (fold=0 puts a nonexistent midnight after its gap)."""
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp())


@st.composite
def offset_change_days(draw: st.DrawFn) -> tuple[str, date]:
    """A zone and, when its year has any, a day on which its UTC offset changes."""
    tz = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(tz)
    year = draw(st.integers(FIRST.year, LAST.year))
    jan1 = date(year, 1, 1)
    days = [jan1 + timedelta(days=n) for n in range(366) if (jan1 + timedelta(days=n)).year == year]
    changes = [
        d
        for d in days
        if datetime.combine(d, time(0), tzinfo=zone).utcoffset()
        != datetime.combine(d + timedelta(days=1), time(0), tzinfo=zone).utcoffset()
    ]
    return tz, draw(st.sampled_from(changes)) if changes else jan1


zone_days = st.tuples(st.sampled_from(ZONES), st.dates(FIRST, LAST)) | offset_change_days()


def brute_force_slots(day: date, zone: ZoneInfo) -> list[int]:
    """Every quarter-hour instant around the day whose local time is a whole hour on `day`."""
    around = midnight(day, zone)
    candidates = range(around - 20 * 3600, around + 44 * 3600, 900)
    return [
        k
        for k in candidates
        if (local := key_to_instant(k).astimezone(zone)).date() == day and local.minute == 0
    ]


def leaves_the_day(keys: list[int], day: date, zone: ZoneInfo) -> bool:
    """Whether a fall-back takes the clock back into the previous date (Newfoundland 00:01)."""
    between = range(keys[0], keys[-1], 900) if keys else range(0)
    return any(key_to_instant(k).astimezone(zone).date() != day for k in between)


@given(zone_days)
def test_a_day_has_one_slot_per_whole_local_hour_and_as_many_as_its_length(
    case: tuple[str, date],
) -> None:
    tz, day = case
    zone = ZoneInfo(tz)
    keys = day_slot_keys(day, tz)
    # Every slot starts on a whole hour of that local day, and none is missing
    assert keys == brute_force_slots(day, zone)
    if leaves_the_day(keys, day, zone):  # e.g. Newfoundland's double daylight in 1988
        return
    # The day lasts 24 h minus the offset change, and whole-hour changes leave 23/24/25 slots
    length = midnight(day + timedelta(days=1), zone) - midnight(day, zone)
    if length % SLOT_SECONDS == 0:
        assert len(keys) == length // SLOT_SECONDS
    # Consecutive slots are an hour apart unless the offset moved by a fraction of an hour
    for a, b in pairwise(keys):
        moved = offset(b, zone) - offset(a, zone)
        assert b - a == SLOT_SECONDS or moved % SLOT_SECONDS != 0


@given(zone_days, st.integers(1, 3))
def test_slots_over_whole_days_are_those_days_slots(case: tuple[str, date], days: int) -> None:
    tz, day = case
    zone = ZoneInfo(tz)
    per_day = [day_slot_keys(day + timedelta(days=n), tz) for n in range(days)]
    if any(leaves_the_day(keys, day + timedelta(days=n), zone) for n, keys in enumerate(per_day)):
        return
    wanted = [k for keys in per_day for k in keys]
    if len(wanted) >= 2:
        start, end = key_to_instant(wanted[0]), key_to_instant(wanted[-1])
        assert slot_keys(start.astimezone(zone), end, tz) == wanted[:-1]


@given(st.sampled_from(ZONES))
def test_every_listed_zone_validates(tz: str) -> None:
    assert validate_timezone(tz) == tz


def test_berlin_spring_forward_has_23_slots_and_fall_back_25() -> None:
    assert len(day_slot_keys(date(2026, 3, 29), "Europe/Berlin")) == 23
    assert len(day_slot_keys(date(2026, 10, 25), "Europe/Berlin")) == 25


def test_new_york_dst_days_have_23_and_25_slots() -> None:
    assert len(day_slot_keys(date(2026, 3, 8), "America/New_York")) == 23
    assert len(day_slot_keys(date(2026, 11, 1), "America/New_York")) == 25


def test_kolkata_slots_are_aligned_to_its_half_hour_offset() -> None:
    keys = day_slot_keys(date(2026, 10, 25), "Asia/Kolkata")
    assert len(keys) == 24
    assert all(k % 3600 == 1800 for k in keys)
