"""Saves of cached aggregates under way in this process, so that a load can wait for them.

When many requests in one process race for one stream (fifty renters for a hot listing's
last night), one wins. A loser that reads while the winner's save is under way reads the
state before it, builds its own change, and only learns at its save that it lost, then
reads again. Waiting for the save under way (a commit: milliseconds) instead lets it read
the winner's state, which the save puts in the aggregate cache, and decide from that.
Waiting is never what keeps state consistent: the store's version check still decides
every save, and a wait gives up after `timeout`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from uuid import UUID


class _Save:
    __slots__ = ("done", "thread")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.thread = threading.get_ident()


class SavesInFlight:
    def __init__(self, *, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._saving: dict[UUID, list[_Save]] = {}
        self.waits = 0  # counter, for benchmarks and tests

    @contextmanager
    def saving(self, ids: Iterable[UUID]) -> Iterator[None]:
        """Marks these streams as being saved by this thread until the block ends."""
        save = _Save()
        streams = list(ids)
        with self._lock:
            for stream in streams:
                self._saving.setdefault(stream, []).append(save)
        try:
            yield
        finally:
            with self._lock:
                for stream in streams:
                    saves = self._saving[stream]
                    saves.remove(save)
                    if not saves:
                        del self._saving[stream]
            save.done.set()

    def wait(self, ids: Iterable[UUID]) -> bool:
        """Waits until the saves of these streams under way in other threads have ended
        (committed or not); whether there were any."""
        me = threading.get_ident()
        with self._lock:
            if not self._saving:
                return False
            pending = [s for stream in ids for s in self._saving.get(stream, ()) if s.thread != me]
            if pending:
                self.waits += 1
        deadline = time.monotonic() + self.timeout
        for save in pending:
            save.done.wait(max(0.0, deadline - time.monotonic()))
        return bool(pending)
