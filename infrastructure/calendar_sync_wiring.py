"""Wiring of calendar sync: the use cases with the HTTP fetcher, and the scheduler's source
of due feeds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from application.calendar_sync import CalendarSync
from application.link_tokens import LinkTokens
from application.listings import Listings
from application.store import EventStore
from infrastructure.calendar_feed_deadlines import ViewCalendarFeedSource
from infrastructure.ical_fetcher import HttpFeedFetcher
from infrastructure.settings import Settings
from projections.runner import ProjectionRunner


def calendar_feed_source(views: Engine, runner: ProjectionRunner) -> ViewCalendarFeedSource:
    return ViewCalendarFeedSource(views, runner.tables("calendar_feeds"))


def build_calendar_sync(settings: Settings, store: EventStore, listings: Listings) -> CalendarSync:
    fetcher = HttpFeedFetcher(
        timeout_seconds=settings.calendar_feed_timeout_seconds,
        max_bytes=settings.calendar_feed_max_bytes,
        allow_private=_allow_private(settings),
    )
    return CalendarSync(
        store,
        listings,
        fetcher,
        LinkTokens(settings.secret_key),
        interval=timedelta(minutes=settings.calendar_feed_interval_minutes),
        retry_interval=timedelta(minutes=settings.calendar_feed_retry_minutes),
        horizon_days=settings.calendar_feed_horizon_days,
    )


def _allow_private(settings: Settings) -> bool:
    if settings.calendar_feed_allow_private is not None:
        return settings.calendar_feed_allow_private
    return settings.environment != "production"
