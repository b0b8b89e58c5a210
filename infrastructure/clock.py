"""The real clock, and the movable clock the container hands to every component."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from application.ports import Clock


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock(Clock):
    """The container's clock: another clock (the system's) plus an offset that only moves
    forward. Outside production `POST /dev/clock` advances it so a whole stay can be walked
    through in minutes; every component reading time holds this one object."""

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return self._base.now() + offset

    @property
    def offset(self) -> timedelta:
        with self._lock:
            return self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Moves the clock forward by `delta` (> 0); returns the new now."""
        if delta <= timedelta():
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += delta
        return self.now()
