"""Deadlines as data: a scheduler asks a source what is due and issues the idempotent command.

Each command carries the booking version the deadline was read at (`if_version`), so a
deadline that a person, another scheduler or an earlier run already acted on is a no-op,
and a lost job can never lose a deadline: the next run finds it again.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from eventsourcing.persistence import IntegrityError

from application.bookings import Bookings
from application.context import Actor, command_context
from application.ports import Clock
from domain.deadlines import COMPLETE, END, EXPIRE, START, Deadline, DeadlineSource
from domain.errors import ConflictError, NotFoundError, RuleViolation

log = logging.getLogger(__name__)


# A deadline kind on another aggregate (e.g. "publish_reviews"): the handler issues its
# idempotent command, `booking_version` then being that aggregate's version.
Handler = Callable[[Deadline, datetime], int]


class Scheduler:
    def __init__(
        self,
        bookings: Bookings,
        source: DeadlineSource,
        *,
        batch_size: int = 200,
        handlers: Mapping[str, Handler] | None = None,
    ):
        self.bookings = bookings
        self.source = source
        self.batch_size = batch_size
        self.handlers = dict(handlers or {})

    def run_due(self, at: datetime) -> int:
        """Issues the command for every deadline due at `at`; returns how many recorded."""
        done = 0
        with command_context(Actor.system()):
            for deadline in self.source.due(at, self.batch_size):
                try:
                    done += 1 if self._issue(deadline, at) else 0
                except (ConflictError, NotFoundError, RuleViolation, IntegrityError) as e:
                    # The booking moved on (or the view lags behind it, or another scheduler
                    # acted on it this very moment): nothing to do now.
                    log.info("deadline %s of %s skipped: %s", deadline.kind, deadline.booking_id, e)
        return done

    def _issue(self, d: Deadline, at: datetime) -> int:
        b, v = self.bookings, d.booking_version
        if d.kind in self.handlers:
            return self.handlers[d.kind](d, at)
        if d.kind == EXPIRE:
            return b.expire(d.booking_id, at, if_version=v)
        if d.kind == START:
            return b.begin(d.booking_id, at, if_version=v)
        if d.kind == END:
            return b.finish(d.booking_id, at, if_version=v)
        if d.kind == COMPLETE:
            return b.complete(Actor.system(), d.booking_id, at, if_version=v)
        raise ValueError(f"unknown deadline kind {d.kind!r}")

    def run_forever(self, clock: Clock, stop_event: threading.Event, interval: float = 5.0) -> None:
        """Runs due deadlines every `interval` seconds until `stop_event` is set."""
        while not stop_event.is_set():
            try:
                self.run_due(clock.now())
            except Exception:
                log.exception("scheduler run failed; retrying in %s s", interval)
            stop_event.wait(interval)


class AllDeadlines(DeadlineSource):
    """Several sources as one, oldest first (the bookings' deadlines and other kinds)."""

    def __init__(self, *sources: DeadlineSource) -> None:
        self.sources = sources

    def due(self, at: datetime, limit: int) -> list[Deadline]:
        found = heapq.merge(*(s.due(at, limit) for s in self.sources), key=lambda d: d.due_at)
        return list(found)[:limit]
