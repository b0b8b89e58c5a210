"""Calendar sync use cases: a listing's secret export link, and external iCal feeds the
owner adds, fetched on a schedule and turned into calendar blocks.

A sync fetches first (outside any transaction), then loads the feed and the calendar and
saves both in one `record`, so the blocks and the feed's memory of them never disagree; a
race with a booking retries against fresh state and reports the overlap as a conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from application.context import Actor
from application.ical_export import render_calendar
from application.ical_feeds import FeedError, FeedFetcher, parse_feed
from application.jobs import JobQueue
from application.link_tokens import LinkTokens
from application.listings import Listings
from application.retry import retry_on_conflict
from application.store import EventStore
from domain.calendar import ListingCalendar
from domain.calendar_feed import CalendarExport, CalendarFeed, export_id_for
from domain.calendar_sync import Window, apply_feed, occurrence_keys, remove_feed_blocks
from domain.deadlines import Deadline
from domain.errors import NotFoundError
from domain.listing import Listing
from domain.periods import local_date

SYNC_CALENDAR_FEED = "sync_calendar_feed"  # the deadline kind: a feed is due for a fetch
EXPORT_PURPOSE = "calendar-export"


class CalendarSync:
    def __init__(
        self,
        store: EventStore,
        listings: Listings,
        fetcher: FeedFetcher,
        tokens: LinkTokens,
        *,
        interval: timedelta = timedelta(minutes=30),
        retry_interval: timedelta = timedelta(minutes=10),
        horizon_days: int = 730,
    ) -> None:
        self.store, self.listings, self.fetcher, self.tokens = store, listings, fetcher, tokens
        self.interval, self.retry_interval = interval, retry_interval
        self.horizon_days = horizon_days

    # -- loading --------------------------------------------------------------------------

    def _owned(self, actor: Actor, listing_id: UUID) -> Listing:
        listing = self.listings.get(listing_id, viewer=actor)
        if actor.role != "admin":
            listing.check_owner(actor.id)
        return listing

    def _load_feed(self, feed_id: UUID) -> CalendarFeed | None:
        try:
            feed = self.store.load(feed_id, "feed")
        except NotFoundError:
            return None
        return feed if isinstance(feed, CalendarFeed) else None

    def feed(self, actor: Actor, listing_id: UUID, feed_id: UUID) -> CalendarFeed:
        """A live feed of a listing the caller owns; 404 otherwise."""
        self._owned(actor, listing_id)
        feed = self._load_feed(feed_id)
        if feed is None or feed.removed or feed.listing_id != listing_id:
            raise NotFoundError("feed_not_found", f"calendar feed {feed_id} not found")
        return feed

    def _calendar(self, listing_id: UUID) -> ListingCalendar:
        return self.listings.calendar(listing_id)

    # -- export ---------------------------------------------------------------------------

    def _generation(self, listing_id: UUID) -> tuple[CalendarExport | None, int]:
        try:
            export = self.store.load(export_id_for(listing_id), "calendar_export")
        except NotFoundError:
            return None, 0
        return export, export.generation

    def export_token(self, actor: Actor, listing_id: UUID) -> str:
        self._owned(actor, listing_id)
        return self.tokens.issue(EXPORT_PURPOSE, listing_id, self._generation(listing_id)[1])

    def rotate_export(self, actor: Actor, listing_id: UUID, at: datetime) -> tuple[str, int]:
        """A new export link; the old one stops working at once."""
        self._owned(actor, listing_id)

        def attempt() -> tuple[str, int]:
            export, _ = self._generation(listing_id)
            export = export or CalendarExport(listing_id=listing_id, at=at)
            export.rotate(at)
            position = self.store.record(export)
            return self.tokens.issue(EXPORT_PURPOSE, listing_id, export.generation), position

        return retry_on_conflict(attempt)

    def export(self, listing_id: UUID, token: str, at: datetime) -> bytes:
        """The listing's iCal feed for whoever holds its current secret link; 404 for any
        other token (a wrong token and a missing listing look the same)."""
        _, generation = self._generation(listing_id)
        if not self.tokens.verify(EXPORT_PURPOSE, token, listing_id, generation):
            raise NotFoundError("calendar_not_found", "no calendar is exported at that link")
        listing = self.store.load(listing_id, "listing")
        return render_calendar(listing, self._calendar(listing_id), at)

    # -- feeds ----------------------------------------------------------------------------

    def add_feed(
        self, actor: Actor, listing_id: UUID, url: str, name: str, at: datetime
    ) -> tuple[UUID, int]:
        """Adds an external feed, due for its first fetch at once."""
        listing = self._owned(actor, listing_id)
        feed = CalendarFeed.add(listing_id, listing.owner_id, url, name, at)
        return feed.id, self.store.record(feed)

    def remove_feed(self, actor: Actor, listing_id: UUID, feed_id: UUID, at: datetime) -> int:
        """Removes the feed and, in the same save, every block it made."""

        def attempt() -> int:
            feed = self.feed(actor, listing_id, feed_id)
            calendar = self._calendar(listing_id)
            remove_feed_blocks(calendar, feed.blocks, at)
            feed.remove(at)
            return self.store.record(calendar, feed)

        return retry_on_conflict(attempt)

    def sync_now(self, actor: Actor, listing_id: UUID, feed_id: UUID, at: datetime) -> int:
        self.feed(actor, listing_id, feed_id)
        return self.sync(feed_id, at)

    def sync(self, feed_id: UUID, at: datetime, *, if_version: int | None = None) -> int:
        """Fetches the feed and makes the listing's blocks match its events; a no-op (0)
        when the feed was removed or moved on since `if_version`. Fetch and parse errors
        are recorded on the feed (its blocks stay as they were), never raised."""
        feed = self._load_feed(feed_id)
        if feed is None or feed.removed or (if_version is not None and feed.version != if_version):
            return 0
        listing = self.listings.get(feed.listing_id, viewer=Actor(feed.owner_id, "owner"))
        version, window = feed.version, self.window(listing, at)
        try:
            fetched = self.fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
            occurrences = (
                parse_feed(fetched.body, window, listing.timezone)
                if fetched.body is not None
                else None
            )
        except FeedError as e:
            error = str(e)
            retry_at = at + self.retry_interval
            return self._record_outcome(feed_id, version, lambda f: f.failed(error, at, retry_at))
        if occurrences is None:  # 304: nothing changed since the last fetch
            next_at = self._next(at)
            return self._record_outcome(feed_id, version, lambda f: f.not_modified(at, next_at))
        wanted = {}
        for occ in occurrences:
            keys = occurrence_keys(listing.unit, listing.timezone, occ, window)
            if keys:
                wanted[occ.key] = (occ, keys)

        def attempt() -> int:
            fresh = self._load_feed(feed_id)
            if fresh is None or fresh.removed or fresh.version != version:
                return 0  # someone else synced or removed it while we fetched
            calendar = self._calendar(fresh.listing_id)
            blocks, conflicts = apply_feed(
                calendar,
                feed_id,
                fresh.blocks,
                wanted,
                unit=listing.unit,
                reason=f"Imported from {fresh.name}",
                at=at,
            )
            fresh.synced(
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                blocks=blocks,
                conflicts=conflicts,
                event_count=len(occurrences),
                at=at,
                next_fetch_at=self._next(at),
            )
            return self.store.record(calendar, fresh)

        return retry_on_conflict(attempt)

    def window(self, listing: Listing, at: datetime) -> Window:
        today = local_date(at, listing.timezone)
        return Window(today, today + timedelta(days=self.horizon_days))

    def _next(self, at: datetime) -> datetime:
        return at + self.interval

    def _record_outcome(
        self, feed_id: UUID, version: int, act: Callable[[CalendarFeed], None]
    ) -> int:
        def attempt() -> int:
            fresh = self._load_feed(feed_id)
            if fresh is None or fresh.removed or fresh.version != version:
                return 0
            act(fresh)
            return self.store.record(fresh)

        return retry_on_conflict(attempt)


def deadline_handlers(
    sync: CalendarSync, jobs: JobQueue | None = None, clock: Callable[[], datetime] | None = None
) -> dict[str, Callable[[Deadline, datetime], int]]:
    """The scheduler's handler of due feeds (`booking_id` is the feed's id there). With a
    job queue, the fetch runs as a job (one per feed version, so a feed still due on the
    next scheduler run is not queued twice): a slow feed never holds up the scheduler's
    other deadlines. Without one, it runs in the scheduler's thread."""
    if jobs is None:

        def run(deadline: Deadline, at: datetime) -> int:
            return sync.sync(deadline.booking_id, at, if_version=deadline.booking_version)

        return {SYNC_CALENDAR_FEED: run}

    now = clock or (lambda: datetime.now(UTC))

    def sync_job(feed_id: str, version: int) -> int:
        return sync.sync(UUID(feed_id), now(), if_version=version)

    jobs.register(SYNC_CALENDAR_FEED, sync_job)

    def enqueue(deadline: Deadline, at: datetime) -> int:
        feed, version = deadline.booking_id, deadline.booking_version
        kwargs = {"feed_id": str(feed), "version": version}
        jobs.enqueue(SYNC_CALENDAR_FEED, kwargs, job_id=f"calendar-feed:{feed}:{version}")
        return 0  # the job records, later

    return {SYNC_CALENDAR_FEED: enqueue}
