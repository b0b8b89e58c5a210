"""Wakes the search index syncer when the search documents view moves, and read-your-writes
waiters when the index has applied a position, instead of polling.

In-process: the projection runner's page hook wakes a syncer of the same process as soon as
a page of `search_documents` is committed, and the syncer advances its `AppliedPosition`
directly. Across processes on PostgreSQL: the hook also sends NOTIFY on `PAGES`, which
`listen` (a thread beside the syncer) turns into a wake-up; the syncer announces each
recorded position on `APPLIED`, which an API process without a syncer hears from its first
search with `X-Rentbook-Min-Position` on. Polls stay as the fallback, so a lost
notification delays, never loses.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, text

from application.search_sync import IndexSyncer
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)

PAGES = "rentbook_search_documents"
APPLIED = "rentbook_search_applied"
VIEW = "search_documents"
APPLICATION_NAME = "rentbook search-wakeup"  # who it is in pg_stat_activity
_PROCESS = uuid.uuid4().hex


def _origin(syncer: IndexSyncer) -> str:
    """Who sent a notification: a syncer woken by its own runner's hook ignores it."""
    return f"{_PROCESS}-{id(syncer)}"


def wire(
    runner: ProjectionRunner, syncer: IndexSyncer, views: Engine, stop: threading.Event
) -> None:
    notify = views.dialect.name == "postgresql"
    origin = _origin(syncer)

    def on_page(name: str, position: int) -> None:
        if name == VIEW:
            syncer.wake()
            if notify:
                _notify(views, PAGES, f"{origin} {position}")

    runner.page_hooks.append(on_page)
    if not notify:
        return

    def heard(payload: str) -> None:
        syncer.applied.advance(int(payload.rsplit(" ", 1)[-1]))

    def subscribe() -> None:
        args = (views, APPLIED, heard, stop)
        threading.Thread(target=_listen, args=args, name="search-applied", daemon=True).start()

    syncer.applied.announce = lambda position: _notify(views, APPLIED, f"{origin} {position}")
    syncer.applied.subscribe = subscribe


def listen(views: Engine, syncer: IndexSyncer, stop: threading.Event) -> None:
    """Wakes `syncer` on pages committed by runners in other processes (PostgreSQL only;
    returns at once elsewhere)."""
    if views.dialect.name != "postgresql":
        return
    origin = _origin(syncer)

    def heard(payload: str) -> None:
        if not payload.startswith(origin):
            syncer.wake()

    _listen(views, PAGES, heard, stop, on_connect=syncer.wake)


def _notify(views: Engine, channel: str, payload: str) -> None:
    try:
        with views.connect() as conn:
            conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})
            conn.commit()
    except Exception as exc:  # listeners fall back to polling
        log.warning("NOTIFY %s failed: %s", channel, exc)


def _listen(
    views: Engine,
    channel: str,
    heard: Callable[[str], None],
    stop: threading.Event,
    on_connect: Callable[[], None] | None = None,
) -> None:
    """Calls `heard(payload)` for each notification on `channel` until `stop`;
    reconnects after a lost connection (`on_connect` covers what was missed)."""
    import psycopg
    from psycopg import sql

    url = views.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True, application_name=APPLICATION_NAME) as conn:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                if on_connect is not None:
                    on_connect()
                while not stop.is_set():
                    for note in conn.notifies(timeout=0.5, stop_after=1):
                        heard(note.payload)
        except Exception:
            log.warning("LISTEN %s lost; polling until it is back", channel, exc_info=True)
            stop.wait(1.0)
