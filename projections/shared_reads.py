"""One read of the tracking rows at a time for all of a process's waiters.

An API process (or a projection process waiting on another's views) learns where the views
another process moves stand only from their `projection_tracking` rows. Each waiter used to
read them itself every 50 ms, under the lock the runner's follower announces its pages
under: K waiters made K reads a round, one after another, and a slow read held up every
waiter and the follower. Here a waiter due a read makes it for everyone, without the lock;
those who come meanwhile wait for it, then take its answer.

On PostgreSQL the projector NOTIFYs each page it commits and the API worker's listener
calls `moved`: the next read is due at once (at most one per `GAP`), not at the next poll.
A notice lost or a listener down costs only latency: the polling goes on underneath.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

INTERVAL = 0.05  # between reads while anyone waits: the latency a wait may add
GAP = 0.002  # between reads a notice makes due: a flood of pages costs ≤ 500 reads a second


class SharedReads:
    def __init__(self, changed: threading.Condition, interval: float = INTERVAL) -> None:
        self._changed = changed  # the runner's: held by the callers of `ticket` and `wait`
        self.interval = interval
        self._started = 0  # reads started, numbered from 1
        self._done = 0  # the number of the last read that completed
        self._reading = False
        self._at = 0.0  # when the last read started
        self._noticed = False  # positions moved since the last read started
        self.reads = 0  # counters, for benchmarks and tests
        self.notices = 0

    def ticket(self) -> int:
        """A waiter's, on arrival: a read numbered above it started after it came."""
        return self._started

    @property
    def completed(self) -> int:
        """How many reads have completed."""
        return self._done

    def moved(self) -> None:
        """Another process committed positions (its NOTIFY): wakes the waiters, due a read."""
        with self._changed:
            self._noticed = True
            self.notices += 1
            self._changed.notify_all()

    def wait(self, ticket: int, remaining: float, read: Callable[[], None]) -> None:
        """With the lock held: makes the read when this waiter is due one (none has started
        since it came, or positions moved or the last started `interval` ago, and none is
        running), else waits for the running one or the next due time, at most `remaining`."""
        now = time.monotonic()
        every = GAP if self._noticed else self.interval
        if not self._reading and (self._done <= ticket or now - self._at >= every):
            self._read(read, now)
            return
        pause = self.interval if self._reading else self._at + every - now
        self._changed.wait(max(0.0, min(remaining, pause)))

    def _read(self, read: Callable[[], None], now: float) -> None:
        self._started += 1
        number, self._reading, self._at = self._started, True, now
        self._noticed = False  # this read sees what the notices so far announced
        self.reads += 1
        self._changed.release()
        ok = False
        try:
            read()
            ok = True
        finally:
            self._changed.acquire()
            self._reading = False
            if ok:
                self._done = max(self._done, number)
            self._changed.notify_all()
