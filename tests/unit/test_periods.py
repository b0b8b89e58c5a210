"""Nights, days and hourly slots in a listing's time zone, including the DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from domain.errors import RuleViolation
from domain.periods import (
    day_slot_keys,
    end_instant,
    format_instant,
    is_open,
    key_to_date,
    key_to_instant,
    local_date,
    night_keys,
    parse_period,
    period_keys,
    slot_keys,
    start_instant,
    validate_opening_hours,
    validate_timezone,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")


def local_hours(keys: list[int], tz: str) -> list[str]:
    return [key_to_instant(k).astimezone(ZoneInfo(tz)).strftime("%H:%M%z") for k in keys]


def test_an_iana_zone_is_accepted_and_anything_else_is_refused() -> None:
    assert validate_timezone("Europe/Lisbon") == "Europe/Lisbon"
    for bad in ("Mars/Olympus", "", "America", "../etc/passwd", "localtime", "+02:00"):
        with pytest.raises(RuleViolation) as e:
            validate_timezone(bad)
        assert e.value.code == "bad_timezone"


def test_nights_are_the_dates_from_start_up_to_but_not_including_end() -> None:
    # Given a three-night stay
    start, end = date(2026, 7, 10), date(2026, 7, 13)
    # When its nights are keyed
    keys = night_keys(start, end)
    # Then each night is its date's ordinal, the checkout date excluded
    assert [key_to_date(k) for k in keys] == [
        date(2026, 7, 10),
        date(2026, 7, 11),
        date(2026, 7, 12),
    ]


def test_a_period_that_does_not_move_forward_is_refused() -> None:
    for end in (date(2026, 7, 10), date(2026, 7, 9)):
        with pytest.raises(RuleViolation) as e:
            night_keys(date(2026, 7, 10), end)
        assert e.value.code == "bad_period"


def test_spring_forward_day_in_berlin_has_23_slots() -> None:
    # When the slots of the day clocks jump from 02:00 to 03:00 are listed
    keys = day_slot_keys(date(2026, 3, 29), "Europe/Berlin")
    # Then there are 23, 02:00 is missing, and they are an hour apart in real time
    assert len(keys) == 23
    assert local_hours(keys, "Europe/Berlin")[1:3] == ["01:00+0100", "03:00+0200"]
    assert all(b - a == 3600 for a, b in pairwise(keys))


def test_fall_back_day_in_berlin_has_25_slots_with_02_00_twice() -> None:
    keys = day_slot_keys(date(2026, 10, 25), "Europe/Berlin")
    assert len(keys) == 25
    assert local_hours(keys, "Europe/Berlin")[2:4] == ["02:00+0200", "02:00+0100"]
    assert all(b - a == 3600 for a, b in pairwise(keys))


def test_new_york_dst_days_have_23_and_25_slots_and_ordinary_days_24() -> None:
    assert len(day_slot_keys(date(2026, 3, 8), "America/New_York")) == 23
    assert len(day_slot_keys(date(2026, 11, 1), "America/New_York")) == 25
    assert len(day_slot_keys(date(2026, 7, 4), "America/New_York")) == 24


def test_kolkata_slots_sit_on_its_half_hour_offset() -> None:
    # Given Asia/Kolkata at UTC+05:30
    keys = day_slot_keys(date(2026, 3, 29), "Asia/Kolkata")
    # Then its slots start on the half hour in UTC and on the hour locally
    assert len(keys) == 24
    assert key_to_instant(keys[0]) == datetime(2026, 3, 28, 18, 30, tzinfo=UTC)
    assert all(key_to_instant(k).astimezone(KOLKATA).minute == 0 for k in keys)


def test_a_slot_bound_off_the_local_hour_is_refused_even_when_on_the_utc_hour() -> None:
    with pytest.raises(RuleViolation) as e:
        slot_keys(
            datetime(2026, 1, 1, 9, tzinfo=UTC),
            datetime(2026, 1, 1, 12, tzinfo=UTC),
            "Asia/Kolkata",
        )
    assert e.value.code == "slot_not_aligned"


def test_a_kolkata_period_on_local_hours_is_accepted() -> None:
    keys = slot_keys(
        datetime(2026, 1, 1, 9, tzinfo=KOLKATA),
        datetime(2026, 1, 1, 12, tzinfo=KOLKATA),
        "Asia/Kolkata",
    )
    assert local_hours(keys, "Asia/Kolkata") == ["09:00+0530", "10:00+0530", "11:00+0530"]


def test_slots_across_the_berlin_gap_step_in_real_hours() -> None:
    # Given 00:00 to 04:00 local on the spring-forward night: three real hours
    start = datetime(2026, 3, 29, 0, tzinfo=BERLIN)
    end = datetime(2026, 3, 29, 4, tzinfo=BERLIN)
    # Then the slots are 00:00, 01:00 and 03:00
    assert local_hours(slot_keys(start, end, "Europe/Berlin"), "Europe/Berlin") == [
        "00:00+0100",
        "01:00+0100",
        "03:00+0200",
    ]


def test_naive_datetimes_are_refused_for_slots() -> None:
    with pytest.raises(RuleViolation) as e:
        slot_keys(datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 10), "UTC")
    assert e.value.code == "naive_datetime"


def test_an_hourly_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(RuleViolation) as e:
        slot_keys(datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 1, 1, 9, tzinfo=UTC), "UTC")
    assert e.value.code == "bad_period"


def test_fractional_dst_keeps_slots_on_the_local_hour() -> None:
    # Given Lord Howe Island moving from +10:30 to +11:00 at 02:00
    keys = day_slot_keys(date(2025, 10, 5), "Australia/Lord_Howe")
    # Then the slot spanning the change lasts 90 minutes and all start on whole local hours
    assert len(keys) == 23
    assert local_hours(keys, "Australia/Lord_Howe")[1:3] == ["01:00+1030", "03:00+1100"]
    assert keys[2] - keys[1] == 5400


def test_a_skipped_calendar_day_has_no_slots() -> None:
    assert day_slot_keys(date(2011, 12, 30), "Pacific/Apia") == []


OPENING = {"mon": [["09:00", "12:00"], ["14:00", "24:00"]]}


@pytest.mark.parametrize(
    ("hour", "open_"),
    [(8, False), (9, True), (11, True), (12, False), (13, False), (14, True), (23, True)],
)
def test_a_slot_is_open_when_its_hour_fits_in_one_window(hour: int, open_: bool) -> None:
    # 2026-06-01 is a Monday
    key = slot_keys(
        datetime(2026, 6, 1, hour, tzinfo=BERLIN),
        datetime(2026, 6, 1, hour, tzinfo=BERLIN) + timedelta(hours=1),
        "Europe/Berlin",
    )[0]
    assert is_open(key, "Europe/Berlin", OPENING) is open_


def test_a_weekday_missing_from_opening_hours_is_closed_and_no_hours_means_always_open() -> None:
    tuesday_ten = int(datetime(2026, 6, 2, 10, tzinfo=BERLIN).timestamp())
    assert is_open(tuesday_ten, "Europe/Berlin", OPENING) is False
    assert is_open(tuesday_ten, "Europe/Berlin", {}) is True


def test_opening_hours_use_the_local_weekday_not_the_utc_one() -> None:
    # Monday 00:00 in Kolkata is still Sunday in UTC
    monday_midnight = int(datetime(2026, 6, 1, 0, tzinfo=KOLKATA).timestamp())
    assert is_open(monday_midnight, "Asia/Kolkata", {"mon": [["00:00", "01:00"]]}) is True


def test_opening_hours_are_normalised_in_weekday_and_time_order() -> None:
    hours = {"sun": [["14:00", "18:00"], ["08:00", "12:00"]], "mon": []}
    assert validate_opening_hours(hours) == {
        "mon": [],
        "sun": [["08:00", "12:00"], ["14:00", "18:00"]],
    }


@pytest.mark.parametrize(
    "hours",
    [
        {"funday": [["09:00", "10:00"]]},
        {"mon": [["9:00", "10:00"]]},
        {"mon": [["24:00", "24:00"]]},
        {"mon": [["10:00", "10:00"]]},
        {"mon": [["12:00", "10:00"]]},
        {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
        {"mon": [["09:00"]]},
        {"mon": "09:00-12:00"},
        ["mon"],
    ],
)
def test_malformed_opening_hours_are_refused(hours: object) -> None:
    with pytest.raises(RuleViolation) as e:
        validate_opening_hours(hours)  # type: ignore[arg-type]
    assert e.value.code == "bad_opening_hours"


def test_a_night_runs_from_check_in_to_check_out_local_time() -> None:
    start = start_instant("night", date(2026, 7, 10), "America/New_York")
    end = end_instant("night", date(2026, 7, 12), "America/New_York")
    assert start == datetime(2026, 7, 10, 19, tzinfo=UTC)  # 15:00 EDT
    assert end == datetime(2026, 7, 12, 15, tzinfo=UTC)  # 11:00 EDT


def test_a_day_runs_from_local_midnight_to_the_midnight_of_its_end_date() -> None:
    assert start_instant("day", date(2026, 3, 29), "Europe/Berlin") == datetime(
        2026, 3, 28, 23, tzinfo=UTC
    )
    assert end_instant("day", date(2026, 3, 30), "Europe/Berlin") == datetime(
        2026, 3, 29, 22, tzinfo=UTC
    )


def test_an_hourly_period_starts_and_ends_at_its_instants_in_utc() -> None:
    at = datetime(2026, 1, 1, 9, tzinfo=KOLKATA)
    assert start_instant("hour", at, "Asia/Kolkata") == datetime(2026, 1, 1, 3, 30, tzinfo=UTC)
    assert end_instant("hour", at, "Asia/Kolkata").tzinfo is UTC


def test_local_date_is_the_date_on_the_listing_wall_clock() -> None:
    instant = datetime(2026, 6, 1, 23, tzinfo=UTC)
    assert local_date(instant, "Asia/Kolkata") == date(2026, 6, 2)
    assert local_date(instant, "America/New_York") == date(2026, 6, 1)


def test_period_keys_dispatch_on_the_unit() -> None:
    assert len(period_keys("day", date(2026, 1, 1), date(2026, 1, 8), "UTC")) == 7
    hours = period_keys(
        "hour", datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 1, 1, 11, tzinfo=UTC), "UTC"
    )
    assert hours == [1767258000, 1767261600]
    with pytest.raises(RuleViolation) as e:
        period_keys("week", date(2026, 1, 1), date(2026, 1, 8), "UTC")
    assert e.value.code == "bad_unit"


def test_api_periods_parse_as_dates_or_offset_instants() -> None:
    assert parse_period("night", "2026-07-10", "2026-07-13") == (
        date(2026, 7, 10),
        date(2026, 7, 13),
    )
    start, end = parse_period("hour", "2026-07-10T09:00:00+02:00", "2026-07-10T08:00:00Z")
    assert start == datetime(2026, 7, 10, 7, tzinfo=UTC)
    assert end == datetime(2026, 7, 10, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("unit", "start", "end"),
    [
        ("night", "2026-07-10", "2026/07/13"),
        ("night", "20260710", "20260713"),
        ("night", "2026-02-30", "2026-03-02"),
        ("day", "2026-07-10T00:00:00Z", "2026-07-11T00:00:00Z"),
        ("hour", "2026-07-10T09:00:00", "2026-07-10T10:00:00"),
        ("hour", "2026-07-10", "2026-07-11"),
        ("night", "2026-07-13", "2026-07-10"),
    ],
)
def test_malformed_api_periods_are_refused(unit: str, start: str, end: str) -> None:
    with pytest.raises(RuleViolation) as e:
        parse_period(unit, start, end)
    assert e.value.code == "bad_period"


def test_instants_format_as_rfc3339_utc() -> None:
    assert format_instant(datetime(2026, 1, 1, 9, tzinfo=KOLKATA)) == "2026-01-01T03:30:00Z"
