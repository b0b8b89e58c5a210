"""Deadlines as data: a scheduler asks a source what is due and issues the idempotent command.

Each command carries the booking version the deadline was read at (`if_version`), so a
deadline that a person, another scheduler or an earlier run already acted on is a no-op,
and a lost job can never lose a deadline: the next run finds it again.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.bookings import Bookings
from application.context import Actor, command_context
from application.ports import Clock
from domain.errors import ConflictError, NotFoundError, RuleViolation

log = logging.getLogger(__name__)

EXPIRE, START, END, COMPLETE = "expire", "start", "end", "complete"
KINDS = (EXPIRE, START, END, COMPLETE)


@dataclass(frozen=True)
class Deadline:
    booking_id: UUID
    kind: str  # expire | start | end | complete
    due_at: datetime
    booking_version: int


class DeadlineSource(ABC):
    """Where the scheduler learns what is due (the deadlines view)."""

    @abstractmethod
    def due(self, at: datetime, limit: int) -> list[Deadline]:
        """Deadlines due at or before `at`, oldest first."""


class Scheduler:
    def __init__(self, bookings: Bookings, source: DeadlineSource, *, batch_size: int = 200):
        self.bookings = bookings
        self.source = source
        self.batch_size = batch_size

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
