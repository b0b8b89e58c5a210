"""Builders for calendar sync tests: a fake feed fetcher (our own port) and the use cases
on an in-memory world whose clock stands at 2030-05-01, where the fixtures' dates are."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from application.calendar_sync import CalendarSync
from application.ical_feeds import FeedError, FeedFetcher, FetchResult
from application.link_tokens import LinkTokens
from tests.builders import World, make_world

SYNC_AT = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


class FakeFetcher(FeedFetcher):
    """Serves bytes (or an error) per URL, with an ETag, and 304 when it still matches."""

    def __init__(self, *, conditional: bool = True) -> None:
        self.feeds: dict[str, bytes | FeedError] = {}
        self.calls = 0
        self.conditional = conditional  # False: every fetch reads the whole feed again

    def fetch(self, url: str, *, etag: str | None, last_modified: str | None) -> FetchResult:
        self.calls += 1
        found = self.feeds.get(url)
        if found is None:
            raise FeedError("the feed answered HTTP 404")
        if isinstance(found, FeedError):
            raise found
        tag = '"' + hashlib.sha256(found).hexdigest()[:16] + '"'
        if self.conditional and etag == tag:
            return FetchResult(None, etag, last_modified)
        return FetchResult(found, tag, None)


@dataclass
class SyncWorld:
    world: World
    fetcher: FakeFetcher
    sync: CalendarSync


def sync_world(*, conditional: bool = True) -> SyncWorld:
    world = make_world()
    fetcher = FakeFetcher(conditional=conditional)
    sync = CalendarSync(world.store, world.listings, fetcher, LinkTokens("test-secret"))
    return SyncWorld(world, fetcher, sync)
