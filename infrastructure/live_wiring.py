"""Builds the process's live-update tail (SSE) and what wakes it.

Woken by every save in this process (the store's listener) and, on PostgreSQL, by the
NOTIFY the event store sends on each commit, which every API worker LISTENs to: a write in
any process reaches the streams of every worker. Polling stays as the fallback (a lost
notification delays, never loses). On the embedded SQLite default, writes of other
processes (`rentbook project`, `scheduler`) are found by the poll.
"""

from __future__ import annotations

import logging
import threading

from application.store import EventStore
from projections.live_feeds import PartiesFeed, UserFeed, UserFeedRoute
from projections.live_message_feed import MessagesFeed
from projections.live_notice_feed import NoticesFeed
from projections.live_origins import Origins
from projections.live_routes import AvailabilityRoute, BookingRoute, Route, Router
from projections.live_tailer import LiveTailer

log = logging.getLogger(__name__)
APPLICATION_NAME = "rentbook live"  # who the LISTEN connection is in pg_stat_activity


def user_feeds(origins: Origins) -> list[UserFeed]:
    """What `GET /me/stream` tells a user: bookings, payments, listings, messages, and the
    other things notifications are made of (disputes, reviews, reminders)."""
    return [PartiesFeed(origins), MessagesFeed(), NoticesFeed(origins)]


def build_live(store: EventStore) -> LiveTailer:
    origins = Origins(store)
    feeds = UserFeedRoute(user_feeds(origins))
    routes: list[Route] = [BookingRoute(origins), AvailabilityRoute(origins), feeds]
    router = Router(routes, origins)
    channel: str | None = getattr(store.recorder, "channel_name", None)
    tailer: LiveTailer
    if channel is None:
        tailer = LiveTailer(store, router, poll_interval=0.25)
    else:
        tailer = ListeningTailer(store, router, channel)
    store.add_listener(tailer.wake)
    return tailer


class ListeningTailer(LiveTailer):
    """The tail on PostgreSQL: also LISTENs to the events table's channel."""

    def __init__(self, store: EventStore, router: Router, channel: str) -> None:
        super().__init__(store, router, poll_interval=1.0)
        self.store = store
        self.channel = channel
        self._listener: threading.Thread | None = None

    def start(self) -> None:
        super().start()
        if self._listener is None or not self._listener.is_alive():
            self._listener = threading.Thread(target=self._listen, name="live-listen", daemon=True)
            self._listener.start()

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.join(timeout)

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        pool = self.store.recorder.datastore.pool  # type: ignore[attr-defined]
        kwargs = dict(getattr(pool, "kwargs", {}))
        kwargs.pop("row_factory", None)
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    **kwargs, autocommit=True, application_name=APPLICATION_NAME
                ) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self.wake()  # anything committed while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.2, stop_after=1):
                            self.wake()
            except Exception:
                log.warning("live LISTEN lost; polling until it is back", exc_info=True)
                self._stop.wait(1.0)
