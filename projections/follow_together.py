"""Following the log with every view at once: one read of new notifications, one decode, one
view-database transaction per page for all the views it moves.

Each view following alone read the log head and its page and wrote its tracking row in a
transaction of its own on every save: twenty views made forty reads and twenty write
transactions of a single event, most of them only to move a tracking row. Together, a page is
read once; views with events apply them each inside a savepoint (a failing view rolls back
alone and backs off, the others commit), views without any move their tracking rows in one
statement.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, Engine

from projections import tracking
from projections.base import read_topics, write_transaction
from projections.decoded import DecodedEvents
from projections.event_log import EventLog
from projections.gc_pause import gc_paused
from projections.live_view import LiveView
from projections.stored import timestamp_of, to_decode
from projections.tracing import page_span

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one page did: the views it moved, those that failed (to mark and back off) and
    those another runner had moved first (to reload)."""

    moved: list[LiveView] = field(default_factory=list)
    failed: list[tuple[LiveView, Exception]] = field(default_factory=list)
    conflicted: list[LiveView] = field(default_factory=list)


def step_together(
    store: EventLog,
    engine: Engine,
    decoded: DecodedEvents,
    lives: Sequence[LiveView],
    batch_size: int,
    stop: int | None = None,
    catch_up_size: int = 0,
) -> tuple[Outcome, bool]:
    """Moves the views behind `stop` (default: the head of the log) by at most one page;
    returns what happened and whether there is more to read now. Views whose lock a
    rebuild holds wait for the next page. Views more than a page behind read pages of
    `catch_up_size` when it is larger."""
    head = store.current_position() if stop is None else stop
    behind = [live for live in lives if live.position < head]
    if not behind:
        return Outcome(), False
    start = min(live.position for live in behind)
    if head - start > batch_size:
        batch_size = max(batch_size, catch_up_size)
    topic_sets = [frozenset(live.projection.topics) for live in behind]
    notes = store.recorder.select_notifications(
        start, batch_size, stop=head, topics=read_topics(topic_sets), inclusive_of_start=False
    )
    full = len(notes) == batch_size
    end = notes[-1].id if full else head
    with ExitStack() as locks:
        mine: list[tuple[LiveView, list[Notification]]] = []
        for live, topics in zip(behind, topic_sets, strict=True):
            if live.position >= end or not live.lock.acquire(blocking=False):
                continue
            locks.callback(live.lock.release)
            page = [n for n in notes if n.id > live.position and (not topics or n.topic in topics)]
            mine.append((live, page))
        with gc_paused():
            outcome = _apply(engine, decoded, mine, end)
    more = full or any(live.position < head for live in lives)
    return outcome, more


def _apply(
    engine: Engine,
    decoded: DecodedEvents,
    mine: Sequence[tuple[LiveView, list[Notification]]],
    end: int,
) -> Outcome:
    stored = {
        live.projection.name for live, _ in mine if decoded.plain and live.projection.reads_stored
    }
    every = sorted({n.id: n for _, page in mine for n in page}.values(), key=lambda n: n.id)
    # Decoded only what views that decode want; views reading stored events get the decoded
    # ones where there are (cheaper to read) and the stored ones else.
    topic_sets = [
        frozenset(live.projection.topics)
        for live, page in mine
        if page and live.projection.name not in stored
    ]
    wanted = [every[i] for i in sorted(to_decode(every, topic_sets))]
    events = dict(zip((n.id for n in wanted), decoded.decode(wanted), strict=True))
    outcome = Outcome()
    idle = [live for live, page in mine if not page]
    with write_transaction(engine) as conn:
        for live, page in mine:
            if not page:
                continue
            if live.projection.name in stored:
                pairs: list[tuple[object, int]] = [(events.get(n.id, n), n.id) for n in page]
            else:
                pairs = [(events[n.id], n.id) for n in page]
            try:
                with conn.begin_nested():
                    _apply_view(conn, live, pairs, end)
            except tracking.TrackingConflict:
                outcome.conflicted.append(live)
            except Exception as exc:  # this view only; the others go on
                outcome.failed.append((live, exc))
            else:
                outcome.moved.append(live)
        expected = {live.projection.name: live.position for live in idle}
        moved = tracking.advance_many(conn, expected, end)
        for live in idle:
            (outcome.moved if live.projection.name in moved else outcome.conflicted).append(live)
        if outcome.moved:
            tracking.announce(conn)  # one per page, whatever the views it moved
    for live in outcome.moved:
        live.position, live.status, live.failures = end, tracking.OK, 0
    return outcome


def _apply_view(
    conn: Connection, live: LiveView, pairs: list[tuple[object, int]], end: int
) -> None:
    with page_span(live.projection.name, [e for e, _ in pairs], live.position, end):
        last_at = timestamp_of(pairs[-1][0])
        tracking.advance(
            conn, live.projection.name, expected=live.position, position=end, last_event_at=last_at
        )
        live.projection.process_page(conn, live.tables, pairs)


def settle(
    engine: Engine,
    outcome: Outcome,
    refresh: Callable[[Sequence[LiveView]], None],
    max_backoff: float,
) -> None:
    """Records the failures (status error, backoff) and reloads the conflicted positions."""
    for live, exc in outcome.failed:
        live.status = tracking.ERROR
        live.retry_at = time.monotonic() + min(max_backoff, 0.2 * 2**live.failures)
        live.failures += 1
        log.error(
            "projection %s failed at position %s",
            live.projection.name,
            live.position,
            exc_info=exc,
        )
        with suppress(Exception), write_transaction(engine) as conn:
            tracking.mark_error(conn, live.projection.name, f"{type(exc).__name__}: {exc}")
    if outcome.conflicted:
        refresh(outcome.conflicted)  # another runner got there first; carry on
