"""Telling the other API workers which streams a commit wrote (PostgreSQL).

A warm placement acts on this worker's cached listing and calendar without reading them
(task K); when another worker booked that listing meanwhile, the group commit's checked
insert rejects the save and it retries on a fresh read: correct, but a wasted round trip
and a retry. So each commit's NOTIFY (the one the event store sends anyway, on the events
table's channel) carries the streams it wrote, each with its last version, and every API
worker LISTENs (one connection, `StreamNoticeListener`) and marks its cached states of
those streams as behind (`AggregateCache.moved`): its next placement there reads first.

The notices only cut conflicts; the checked insert stays the guarantee: a notice lost or
late (the listener reconnecting, the payload arriving after the placement decided) costs a
conflict, never a wrong answer.

Payload: the sender's token (so a worker skips its own commits, whose states it cached
itself), then base64 of 20 bytes per stream (16 of the uuid, 4 of the version). Streams
written from version 1 are left out (nobody can hold them cached yet: a placement's new
booking), so a group of 64 placements names 64 calendars (~1.7 kB); past `MAX_PAYLOAD`
(PostgreSQL's limit is 8,000 bytes) the payload is the token and `*`: everything is behind.

The same connection LISTENs to the projector's page notices (`tracking.POSITIONS_CHANNEL`)
and wakes the worker's read-your-writes waiters (`ProjectionRunner.positions_moved`): no
second connection per worker. Without the cache (no unread placements) it hears only those.
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.aggregate_cache import AggregateCache
from projections.tracking import POSITIONS_CHANNEL

log = logging.getLogger(__name__)

TOKEN_LENGTH = 8
APPLICATION_NAME = "rentbook stream-notices"  # who it is in pg_stat_activity
MAX_PAYLOAD = 7_900
ALL = "*"
# After a conflict, how long a worker hearing the others' notices reads an entry first
# (without notices: `aggregate_cache.SUSPECT_SECONDS`): the notice is what tells it now.
SUSPECT_SECONDS_WITH_NOTICES = 0.0


def new_token() -> str:
    return secrets.token_hex(TOKEN_LENGTH // 2)


def notice_payload(token: str, stored_events: Sequence[StoredEvent]) -> str:
    last: dict[Any, int] = {}
    first: dict[Any, int] = {}
    for e in stored_events:
        stream, version = e.originator_id, e.originator_version
        if version > last.get(stream, 0):
            last[stream] = version
        if version < first.get(stream, version + 1):
            first[stream] = version
    written = [(s, v) for s, v in last.items() if first[s] > 1]
    if not written:
        return token
    if len(written) * 20 * 4 // 3 + TOKEN_LENGTH > MAX_PAYLOAD:
        return token + ALL
    raw = b"".join(_bytes(s) + v.to_bytes(4, "big") for s, v in written)
    return token + base64.b64encode(raw).decode("ascii")


def read_payload(payload: str) -> tuple[str, list[tuple[UUID, int]] | None]:
    """(the sender's token, the streams and versions; None: all of them)."""
    token, body = payload[:TOKEN_LENGTH], payload[TOKEN_LENGTH:]
    if body == ALL:
        return token, None
    raw = base64.b64decode(body) if body else b""
    return token, [
        (UUID(bytes=raw[i : i + 16]), int.from_bytes(raw[i + 16 : i + 20], "big"))
        for i in range(0, len(raw) - 19, 20)
    ]


def apply_notice(cache: AggregateCache, own_token: str, payload: str) -> None:
    if len(payload) < TOKEN_LENGTH:
        return  # a bare NOTIFY (another recorder's, or the library's own insert path)
    token, streams = read_payload(payload)
    if token == own_token:
        return  # this process committed it and cached what it committed
    if streams is None:
        cache.clear()
    else:
        cache.moved(streams)


class StreamNoticeListener:
    """One API worker's LISTEN connection; `stop` closes it."""

    def __init__(
        self,
        cache: AggregateCache | None,
        token: str,
        connect_kwargs: dict[str, Any],
        channel: str,
        on_positions: Callable[[], None] | None = None,
    ) -> None:
        self.cache = cache
        self.token = token
        self.kwargs = connect_kwargs
        self.channel = channel
        self.on_positions = on_positions
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.notices = 0  # counters, for benchmarks and tests
        self.position_notices = 0
        self.backend_pid: int | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        if self.cache is not None:
            self.cache.suspect_seconds = SUSPECT_SECONDS_WITH_NOTICES
        self._thread = threading.Thread(target=self._listen, name="stream-notices", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    **self.kwargs, autocommit=True, application_name=APPLICATION_NAME
                ) as conn:
                    for channel in self._channels():
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self._missed()
                    self.backend_pid = conn.info.backend_pid
                    self.connected.set()
                    for channel, payload in self._notices(conn):
                        self._hear(channel, payload)
            except Exception:
                log.warning("stream notices: LISTEN lost; reconnecting", exc_info=True)
                self._stop.wait(1.0)
            finally:
                self.connected.clear()

    def _channels(self) -> list[str]:
        channels = [self.channel] if self.cache is not None else []
        return channels + ([POSITIONS_CHANNEL] if self.on_positions is not None else [])

    def _missed(self) -> None:
        """What happened while nobody listened is unknown: all behind, positions moved."""
        if self.cache is not None:
            self.cache.clear()
        if self.on_positions is not None:
            self.on_positions()

    def _hear(self, channel: str, payload: str) -> None:
        if channel == POSITIONS_CHANNEL:
            if self.on_positions is not None:
                self.on_positions()
            self.position_notices += 1
        elif self.cache is not None:
            apply_notice(self.cache, self.token, payload)
            self.notices += 1

    def _notices(self, conn: Any) -> Iterator[tuple[str, str]]:
        while not self._stop.is_set():
            for notify in conn.notifies(timeout=0.2):
                yield notify.channel, notify.payload


def stream_notice_listener(
    store: Any, on_positions: Callable[[], None] | None = None
) -> StreamNoticeListener | None:
    """The listener for an event store on PostgreSQL whose commits send notices, or whose
    worker waits on views the projector moves (`on_positions`); else None. Not started."""
    channel: str | None = getattr(store.recorder, "channel_name", None)
    token: str | None = getattr(store.recorder, "stream_notices", None)
    cache = store.aggregate_cache
    if token is None or cache is None or not store.acts_on_cache:
        cache = None
    if channel is None or (cache is None and on_positions is None):
        return None
    pool = store.recorder.datastore.pool
    kwargs = dict(getattr(pool, "kwargs", {}))
    kwargs.pop("row_factory", None)
    return StreamNoticeListener(cache, token or "", kwargs, channel, on_positions)


def _bytes(stream: UUID | str) -> bytes:
    return (stream if isinstance(stream, UUID) else UUID(stream)).bytes
