"""Threads of this process take turns per key (a listing's calendar, for placements).

Two placements on one calendar can never share a commit: both read version n and save
n + 1, so one of them fails its save, reloads and tries again. Taking turns in the process
spares the loser that wasted save and retry: it starts after the winner committed, and its
load (still from the database: another process may have written since) already sees the
winner's hold, so a race for one night ends in one failed domain check per loser.

Only an optimisation: other processes do not queue here, and the store's optimistic
concurrency stays the guarantee. A turn waited for longer than `timeout` is given up and
the caller proceeds without it, as it would have without turns.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager


class Turns:
    def __init__(self, *, timeout: float = 1.0) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._held: dict[Hashable, tuple[threading.Lock, list[int]]] = {}  # key -> lock, users

    @contextmanager
    def take(self, key: Hashable) -> Iterator[bool]:
        """Holds `key`'s turn for the block; yields whether it got the turn in time."""
        with self._lock:
            turn = self._held.get(key)
            if turn is None:
                turn = self._held[key] = (threading.Lock(), [0])
            turn[1][0] += 1
        got = turn[0].acquire(timeout=self.timeout)
        try:
            yield got
        finally:
            if got:
                turn[0].release()
            with self._lock:
                turn[1][0] -= 1
                if not turn[1][0]:
                    del self._held[key]

    def __len__(self) -> int:
        """Keys with a holder or a waiter (an idle key is forgotten)."""
        with self._lock:
            return len(self._held)
