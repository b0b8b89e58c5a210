"""Retry a load → act → save against fresh state when a stream moved under us."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from eventsourcing.persistence import IntegrityError

from domain.errors import ConflictError

T = TypeVar("T")


class StaleStateError(IntegrityError):
    """Raised by an action that found, before saving, that what it loaded has moved on in
    this process (`EventStore.is_current`): retried at once, the winner's save is done."""


def retry_on_conflict(action: Callable[[], T], *, attempts: int = 30) -> T:
    """Runs `action` until its save wins; the action reloads, so a loser sees the winner's
    events and usually fails its own domain check (e.g. `unavailable`) on the next try."""
    for attempt in range(attempts):
        try:
            return action()
        except StaleStateError:
            continue
        except IntegrityError:
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
    raise ConflictError("contention", "too many concurrent changes; try again")
