"""The pure rules of calendar sync: which keys an external event takes on nightly, daily
and hourly listings (time zones, DST, the window), and the export's events and UIDs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from application.ical_export import render_calendar
from domain.calendar_sync import Occurrence, Window, occurrence_keys
from domain.listing import Listing
from tests.builders import listing_calendar, listing_spec

LISBON = ZoneInfo("Europe/Lisbon")
WINDOW = Window(date(2030, 1, 1), date(2031, 1, 1))


def occ(start: date | datetime, end: date | datetime) -> Occurrence:
    return Occurrence("k", "uid", "Busy", start, end)


def ordinals(*days: str) -> list[int]:
    return [date.fromisoformat(d).toordinal() for d in days]


def test_a_timed_hotel_stay_takes_the_nights_between_check_in_and_check_out() -> None:
    stay = occ(datetime(2030, 3, 1, 15, tzinfo=LISBON), datetime(2030, 3, 4, 11, tzinfo=LISBON))
    assert occurrence_keys("night", "Europe/Lisbon", stay, WINDOW) == ordinals(
        "2030-03-01", "2030-03-02", "2030-03-03"
    )
    morning = occ(datetime(2030, 3, 2, 9, tzinfo=LISBON), datetime(2030, 3, 2, 10, tzinfo=LISBON))
    assert occurrence_keys("night", "Europe/Lisbon", morning, WINDOW) == ordinals("2030-03-01")


def test_a_timed_event_over_midnight_takes_both_days_of_a_daily_listing() -> None:
    late = occ(datetime(2030, 3, 1, 22, tzinfo=UTC), datetime(2030, 3, 2, 1, tzinfo=UTC))
    assert occurrence_keys("day", "Europe/Lisbon", late, WINDOW) == ordinals(
        "2030-03-01", "2030-03-02"
    )
    in_tokyo = occurrence_keys("day", "Asia/Tokyo", late, WINDOW)  # 07:00-10:00 on the 2nd
    assert in_tokyo == ordinals("2030-03-02")


def test_an_all_day_event_takes_every_slot_of_its_local_days_dst_included() -> None:
    spring_forward = occ(date(2030, 3, 31), date(2030, 4, 1))  # Lisbon skips 01:00
    keys = occurrence_keys("hour", "Europe/Lisbon", spring_forward, WINDOW)
    assert len(keys) == 23
    assert keys[0] == int(datetime(2030, 3, 31, 0, tzinfo=UTC).timestamp())


def test_timed_events_take_the_slots_they_overlap_and_an_instant_takes_one() -> None:
    start = datetime(2030, 5, 6, 10, 30, tzinfo=UTC)
    keys = occurrence_keys("hour", "Europe/Lisbon", occ(start, start + timedelta(hours=1)), WINDOW)
    assert keys == [int(datetime(2030, 5, 6, h, tzinfo=UTC).timestamp()) for h in (10, 11)]
    assert len(occurrence_keys("hour", "Europe/Lisbon", occ(start, start), WINDOW)) == 1


def test_events_are_cut_to_the_window() -> None:
    window = Window(date(2030, 5, 3), date(2030, 5, 5))
    long = occ(date(2030, 5, 1), date(2030, 5, 10))
    assert occurrence_keys("night", "Europe/Lisbon", long, window) == ordinals(
        "2030-05-03", "2030-05-04"
    )
    assert (
        occurrence_keys("night", "Europe/Lisbon", occ(date(2029, 1, 1), date(2029, 1, 2)), window)
        == []
    )


def test_the_export_has_one_event_per_run_with_stable_uids_and_no_expired_holds() -> None:
    at = datetime(2030, 5, 1, 9, tzinfo=UTC)
    listing = Listing.create(uuid.uuid4(), listing_spec(), at)
    calendar = listing_calendar(listing.id, at=at)
    block = uuid.uuid4()
    calendar.add_block(block, ordinals("2030-06-01", "2030-06-02", "2030-06-05"), "x", at)
    live, gone = uuid.uuid4(), uuid.uuid4()
    calendar.place_hold(live, ordinals("2030-05-06"), 1, at + timedelta(minutes=15), at)
    calendar.place_hold(
        gone, ordinals("2030-05-08"), 1, at - timedelta(minutes=1), at - timedelta(hours=1)
    )
    feed = icalendar.Calendar.from_ical(render_calendar(listing, calendar, at))
    events = {
        str(e["UID"]): (e.decoded("DTSTART"), e.decoded("DTEND")) for e in feed.walk("VEVENT")
    }
    assert events == {
        f"booking-{live}@rentbook.dev": (date(2030, 5, 6), date(2030, 5, 7)),
        f"block-{block}@rentbook.dev": (date(2030, 6, 1), date(2030, 6, 3)),
        f"block-{block}-1@rentbook.dev": (date(2030, 6, 5), date(2030, 6, 6)),
    }
    assert all(e.decoded("DTSTAMP") == at for e in feed.walk("VEVENT"))
