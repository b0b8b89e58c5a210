"""Wakes the search index syncer when the search documents view moves, instead of polling.

In-process: the projection runner's page hook wakes a syncer of the same process as soon as
a page of `search_documents` is committed. Across processes on PostgreSQL: the hook also
sends NOTIFY on `CHANNEL`, and `listen` (a thread beside the syncer) wakes it on
notifications from other processes' runners. The syncer keeps a slow poll as the fallback,
so a lost notification delays the index, never loses a change.
"""

from __future__ import annotations

import logging
import threading
import uuid

from sqlalchemy import Engine, text

from application.search_sync import IndexSyncer
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)

CHANNEL = "rentbook_search_documents"
VIEW = "search_documents"
_PROCESS = uuid.uuid4().hex


def _origin(syncer: IndexSyncer) -> str:
    """Who sent a notification: a syncer woken by its own runner's hook ignores it."""
    return f"{_PROCESS}-{id(syncer)}"


def wire(runner: ProjectionRunner, syncer: IndexSyncer, views: Engine) -> None:
    notify = views.dialect.name == "postgresql"

    def on_page(name: str, position: int) -> None:
        if name != VIEW:
            return
        syncer.wake()
        if notify:
            try:
                with views.connect() as conn:
                    payload = f"{_origin(syncer)} {position}"
                    conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})
                    conn.commit()
            except Exception as exc:  # other processes' syncers fall back to polling
                log.warning("search wake-up NOTIFY failed: %s", exc)

    runner.page_hooks.append(on_page)


def listen(views: Engine, syncer: IndexSyncer, stop: threading.Event) -> None:
    """Wakes `syncer` on pages committed by runners in other processes (PostgreSQL only;
    returns at once elsewhere). Reconnects after a lost connection."""
    if views.dialect.name != "postgresql":
        return
    import psycopg
    from psycopg import sql

    origin = _origin(syncer)
    url = views.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                syncer.wake()  # anything committed while we were not listening
                while not stop.is_set():
                    for note in conn.notifies(timeout=0.5, stop_after=1):
                        if not note.payload.startswith(origin):
                            syncer.wake()
        except Exception:
            log.warning("search LISTEN connection lost; polling until it is back", exc_info=True)
            stop.wait(1.0)
