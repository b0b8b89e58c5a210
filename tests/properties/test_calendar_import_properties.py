"""Properties of calendar import, for any feed (all-day and timed events, repeated UIDs)
and any booking already on the calendar:
- importing the same feed twice changes nothing (calendar and feed alike);
- every key an event takes is blocked, or held by the booking and then reported as a
  conflict naming that event: nothing is silently dropped (not even events whose UID the
  feed repeats);
- importing the feed then an empty one leaves no block of the feed, and the owner's own
  blocks untouched."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.calendar_sync import Window, occurrence_keys
from tests.calendar_sync_builders import SYNC_AT, sync_world

URL = "https://calendar.example.com/feed.ics"
LISBON = ZoneInfo("Europe/Lisbon")
FIRST_DAY = date(2030, 5, 2)

events = st.lists(
    st.tuples(
        st.integers(0, 6),  # uid: some exporters repeat UIDs for separate events
        st.integers(-3, 40),  # first day, from FIRST_DAY (some before the window)
        st.integers(1, 6),  # days (all-day) or hours (timed)
        st.one_of(st.none(), st.integers(0, 23)),  # None: all-day; else the start hour
    ),
    max_size=8,
)
booking = st.one_of(st.none(), st.tuples(st.integers(0, 30), st.integers(1, 5)))


def feed_bytes(items: list[tuple[int, int, int, int | None]]) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Property//EN")
    cal.add("version", "2.0")
    for uid, offset, length, hour in items:
        event = icalendar.Event()
        event.add("uid", f"event-{uid}@example.com")
        day = FIRST_DAY + timedelta(days=offset)
        if hour is None:
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=length))
        else:
            start = datetime(day.year, day.month, day.day, hour, tzinfo=LISBON)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(hours=length))
        event.add("summary", f"Busy {uid}")
        cal.add_component(event)
    return bytes(cal.to_ical())


def state(s: Any, listing_id: Any, feed_id: Any) -> tuple[Any, ...]:
    calendar = s.world.listings.calendar(listing_id)
    feed = s.sync.feed(s.world.owner, listing_id, feed_id)
    return calendar.version, dict(calendar.blocks), dict(feed.blocks), list(feed.conflicts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=events, booked=booking)
def test_import_is_idempotent_complete_and_removable(
    items: list[tuple[int, int, int, int | None]], booked: tuple[int, int] | None
) -> None:
    s = sync_world(conditional=False)
    w = s.world
    listing = w.active_listing(booking_window_days=730)
    w.listings.add_block(w.owner, listing, "2030-08-01", "2030-08-03", "own block", SYNC_AT)
    own_blocks = dict(w.listings.calendar(listing).blocks)
    booking_id = None
    if booked is not None:
        start = FIRST_DAY + timedelta(days=booked[0])
        booking_id, _ = w.bookings.place(
            w.renter,
            listing,
            start=start.isoformat(),
            end=(start + timedelta(days=booked[1])).isoformat(),
            quantity=1,
            guests=1,
            at=SYNC_AT,
        )
    s.fetcher.feeds[URL] = feed_bytes(items)
    feed_id, _ = s.sync.add_feed(w.owner, listing, URL, "Feed", SYNC_AT)
    s.sync.sync(feed_id, SYNC_AT)
    first = state(s, listing, feed_id)

    # the same feed read again (within the booking's 15-minute hold: it must still be there)
    s.sync.sync(feed_id, SYNC_AT + timedelta(minutes=5))
    assert state(s, listing, feed_id)[:3] == first[:3]
    assert state(s, listing, feed_id)[3] == first[3]

    calendar = w.listings.calendar(listing)
    conflicted = {c["uid"].split("#")[0] for c in first[3]}  # repeated UIDs get #n
    window = s.sync.window(w.listings.get(listing), SYNC_AT)
    for uid, offset, length, hour in items:
        occurrence = _occurrence(uid, offset, length, hour)
        for key in occurrence_keys("night", "Europe/Lisbon", occurrence, window):
            if calendar.used(key, SYNC_AT):
                assert occurrence.uid in conflicted
                assert all(str(booking_id) in c["booking_ids"] for c in first[3])
            else:
                assert key in calendar.blocked_keys()

    s.fetcher.feeds[URL] = feed_bytes([])
    s.sync.sync(feed_id, SYNC_AT + timedelta(minutes=10))
    assert w.listings.calendar(listing).blocks == own_blocks
    assert s.sync.feed(w.owner, listing, feed_id).blocks == {}


def _occurrence(uid: int, offset: int, length: int, hour: int | None) -> Any:
    from domain.calendar_sync import Occurrence

    day = FIRST_DAY + timedelta(days=offset)
    if hour is None:
        return Occurrence("", f"event-{uid}@example.com", "", day, day + timedelta(days=length))
    start = datetime(day.year, day.month, day.day, hour, tzinfo=LISBON)
    return Occurrence("", f"event-{uid}@example.com", "", start, start + timedelta(hours=length))


def test_window_is_what_the_property_assumes() -> None:
    s = sync_world()
    window = s.sync.window(s.world.listings.get(s.world.active_listing()), SYNC_AT)
    assert window == Window(date(2030, 5, 1), date(2030, 5, 1) + timedelta(days=730))
