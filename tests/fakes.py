"""Fakes of our own ports, for tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from application.ports import Clock


class FakeClock(Clock):
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """`clock.advance(minutes=15)` or `clock.advance(timedelta(days=1))`."""
        with self._lock:
            self._now += (delta or timedelta()) + timedelta(**kwargs)
            return self._now

    def set(self, at: datetime) -> None:
        with self._lock:
            self._now = at


FrozenClock = FakeClock
