"""Calendar import on the in-memory store: feeds become blocks through calendar commands,
removed events lose theirs, overlaps with bookings are reported, unchanged and broken
feeds change nothing; recurring and timed events on an hourly listing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from application.calendar_sync import SYNC_CALENDAR_FEED, deadline_handlers
from application.ical_feeds import FeedError
from application.jobs import InlineJobQueue
from domain.calendar import ListingCalendar
from domain.calendar_feed import ERROR, NOT_MODIFIED, OK
from domain.deadlines import Deadline
from domain.errors import NotFoundError, PermissionDenied
from tests.calendar_sync_builders import SYNC_AT, SyncWorld, sync_world
from tests.ical_server import fixture

URL = "https://www.airbnb.com/calendar/ical/123.ics?s=abc"


def nights(first: str, last: str) -> set[int]:
    """Night keys from `first` to `last`, both included."""
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return set(range(a.toordinal(), b.toordinal() + 1))


def blocked(s: SyncWorld, listing_id: UUID) -> set[int]:
    calendar: ListingCalendar = s.world.listings.calendar(listing_id)
    return calendar.blocked_keys()


@pytest.fixture
def s() -> SyncWorld:
    return sync_world()


def test_an_airbnb_feed_becomes_blocks_and_follows_its_changes(s: SyncWorld) -> None:
    listing = s.world.active_listing()
    s.fetcher.feeds[URL] = fixture("airbnb.ics")
    feed_id, _ = s.sync.add_feed(s.world.owner, listing, URL, "Airbnb", SYNC_AT)
    assert s.sync.sync(feed_id, SYNC_AT) > 0
    # the past reservation (April) is outside the window; May 5-9 and May 28-31 are blocked
    assert blocked(s, listing) == nights("2030-05-05", "2030-05-09") | nights(
        "2030-05-28", "2030-05-31"
    )
    feed = s.sync.feed(s.world.owner, listing, feed_id)
    assert (feed.status, feed.event_count, len(feed.blocks), feed.conflicts) == (OK, 2, 2, [])

    later = SYNC_AT + timedelta(days=1)
    s.fetcher.feeds[URL] = fixture("airbnb_updated.ics")
    s.sync.sync(feed_id, later)
    assert blocked(s, listing) == nights("2030-05-28", "2030-05-31") | nights(
        "2030-06-12", "2030-06-14"
    )
    reasons = {b["reason"] for b in s.world.listings.calendar(listing).blocks.values()}
    assert reasons == {
        "Imported from Airbnb: Airbnb (Not available)",
        "Imported from Airbnb: Reserved",
    }


def test_an_unchanged_feed_and_a_304_change_nothing(s: SyncWorld) -> None:
    listing = s.world.active_listing()
    s.fetcher.feeds[URL] = fixture("airbnb.ics")
    feed_id, _ = s.sync.add_feed(s.world.owner, listing, URL, "Airbnb", SYNC_AT)
    s.sync.sync(feed_id, SYNC_AT)
    version = s.world.listings.calendar(listing).version
    s.sync.sync(feed_id, SYNC_AT + timedelta(minutes=30))  # the fake answers 304
    feed = s.sync.feed(s.world.owner, listing, feed_id)
    assert feed.status == NOT_MODIFIED and feed.next_fetch_at == SYNC_AT + timedelta(hours=1)
    assert s.world.listings.calendar(listing).version == version


def test_a_broken_or_failing_feed_is_an_error_and_keeps_its_blocks(s: SyncWorld) -> None:
    listing = s.world.active_listing()
    s.fetcher.feeds[URL] = fixture("airbnb.ics")
    feed_id, _ = s.sync.add_feed(s.world.owner, listing, URL, "Airbnb", SYNC_AT)
    s.sync.sync(feed_id, SYNC_AT)
    before = blocked(s, listing)
    for broken in (fixture("malformed.ics"), b"<html>Login</html>", FeedError("too slow")):
        s.fetcher.feeds[URL] = broken
        s.sync.sync(feed_id, SYNC_AT + timedelta(hours=1))
        feed = s.sync.feed(s.world.owner, listing, feed_id)
        assert feed.status == ERROR and feed.last_error
        assert feed.next_fetch_at == SYNC_AT + timedelta(hours=1, minutes=10)  # retried sooner
        assert blocked(s, listing) == before


def test_an_overlap_with_a_booking_is_reported_and_the_rest_is_blocked(s: SyncWorld) -> None:
    w = s.world
    listing = w.active_listing(booking_window_days=730)
    booking_id, _ = w.bookings.place(
        w.renter, listing, start="2030-05-06", end="2030-05-08", quantity=1, guests=2, at=SYNC_AT
    )
    s.fetcher.feeds[URL] = fixture("airbnb.ics")
    feed_id, _ = s.sync.add_feed(w.owner, listing, URL, "Airbnb", SYNC_AT)
    s.sync.sync(feed_id, SYNC_AT)
    feed = s.sync.feed(w.owner, listing, feed_id)
    (conflict,) = feed.conflicts
    assert conflict["booking_ids"] == [str(booking_id)] and conflict["summary"] == "Reserved"
    assert conflict["start"] == "2030-05-05" and conflict["first_conflict"] == "2030-05-06"
    assert blocked(s, listing) == (
        nights("2030-05-05", "2030-05-05")
        | nights("2030-05-08", "2030-05-09")
        | nights("2030-05-28", "2030-05-31")
    )
    w.bookings.cancel(w.renter, booking_id, "plans changed", SYNC_AT + timedelta(minutes=1))
    s.fetcher.feeds[URL] = fixture("airbnb.ics") + b"\r\n"  # a new ETag: read again
    s.sync.sync(feed_id, SYNC_AT + timedelta(minutes=2))
    assert s.sync.feed(w.owner, listing, feed_id).conflicts == []
    assert nights("2030-05-05", "2030-05-09") <= blocked(s, listing)


def test_a_google_feed_blocks_the_slots_of_an_hourly_listing(s: SyncWorld) -> None:
    listing = s.world.active_listing(category="court")
    s.fetcher.feeds[URL] = fixture("google.ics")
    feed_id, _ = s.sync.add_feed(s.world.owner, listing, URL, "Club", SYNC_AT)
    s.sync.sync(feed_id, SYNC_AT)

    def utc(year: int, month: int, day: int, hour: int) -> int:
        return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())

    training = {utc(2030, 5, d, h) for d in (6, 27) for h in (16, 17)}  # 18-20 Berlin (CEST)
    moved = {utc(2030, 5, 21, 7)}  # the 20th's instance moved to the 21st, 09-10 Berlin
    tournament = {utc(2030, 5, 31, 23) + 3600 * h for h in range(24)}  # June 1 in Lisbon
    assert blocked(s, listing) == training | moved | tournament  # not the 13th (EXDATE)
    feed = s.sync.feed(s.world.owner, listing, feed_id)
    assert feed.event_count == 4  # the transparent and the cancelled events are skipped


def test_a_booking_com_feed_with_an_event_without_uid_or_end(s: SyncWorld) -> None:
    listing = s.world.active_listing(booking_unit="day", category="vehicle")
    s.fetcher.feeds[URL] = fixture("booking_com.ics")
    feed_id, _ = s.sync.add_feed(s.world.owner, listing, URL, "Booking.com", SYNC_AT)
    s.sync.sync(feed_id, SYNC_AT)
    assert blocked(s, listing) == nights("2030-06-15", "2030-06-17") | nights(
        "2030-06-20", "2030-06-20"
    )
    again = s.sync.sync(feed_id, SYNC_AT + timedelta(hours=1))
    assert again > 0 and blocked(s, listing) == nights("2030-06-15", "2030-06-17") | nights(
        "2030-06-20", "2030-06-20"
    )


def test_removing_a_feed_removes_its_blocks_only(s: SyncWorld) -> None:
    w = s.world
    listing = w.active_listing(booking_window_days=730)
    w.listings.add_block(w.owner, listing, "2030-07-01", "2030-07-03", "painting", SYNC_AT)
    s.fetcher.feeds[URL] = fixture("airbnb.ics")
    feed_id, _ = s.sync.add_feed(w.owner, listing, URL, "Airbnb", SYNC_AT)
    s.sync.sync(feed_id, SYNC_AT)
    s.sync.remove_feed(w.owner, listing, feed_id, SYNC_AT)
    assert blocked(s, listing) == nights("2030-07-01", "2030-07-02")
    with pytest.raises(NotFoundError):
        s.sync.feed(w.owner, listing, feed_id)
    assert s.sync.sync(feed_id, SYNC_AT) == 0  # a removed feed is never fetched again


def test_only_the_owner_manages_feeds(s: SyncWorld) -> None:
    listing = s.world.active_listing()
    with pytest.raises(PermissionDenied):
        s.sync.add_feed(s.world.renter, listing, URL, "Airbnb", SYNC_AT)
    feed_id, _ = s.sync.add_feed(s.world.owner, listing, URL, "Airbnb", SYNC_AT)
    with pytest.raises(PermissionDenied):
        s.sync.feed(s.world.renter, listing, feed_id)
    with pytest.raises(NotFoundError):
        s.sync.feed(s.world.owner, s.world.active_listing(), feed_id)  # another listing's


def test_the_scheduler_queues_one_job_per_due_feed_version(s: SyncWorld) -> None:
    listing = s.world.active_listing()
    s.fetcher.feeds[URL] = fixture("airbnb.ics")
    feed_id, _ = s.sync.add_feed(s.world.owner, listing, URL, "Airbnb", SYNC_AT)
    jobs = InlineJobQueue()
    handle = deadline_handlers(s.sync, jobs, lambda: SYNC_AT)[SYNC_CALENDAR_FEED]
    due = Deadline(feed_id, SYNC_CALENDAR_FEED, SYNC_AT, 1)
    handle(due, SYNC_AT)
    handle(due, SYNC_AT)  # still due in a lagging view: the same job, not a second fetch
    assert s.fetcher.calls == 1
    assert s.sync.feed(s.world.owner, listing, feed_id).status == OK
    assert jobs.get(f"calendar-feed:{feed_id}:1") is not None
