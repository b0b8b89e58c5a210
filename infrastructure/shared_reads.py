"""Identical reads from many threads at once share one query, never an older one.

Fifty requests racing for one listing all read its listing and calendar streams at the same
moment, and again after the winner's save; each query costs its thread a connection, a
round trip and the decoding of the same rows. Here one read of a key runs at a time; the
callers that ask for that key while it runs wait and share the NEXT read, which starts
after every one of them asked. So each caller gets what the database held at some moment
after its own call (read-your-writes and freshness are those of reading alone); a caller
waits at most for one read already under way before its own starts. With nobody else
reading the key, a read runs at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Read(Generic[T]):
    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set when error is None


class SharedReads(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[Hashable, _Read[T]] = {}
        self._next: dict[Hashable, _Read[T]] = {}  # open to joiners until it starts
        self.reads = 0  # counters, for benchmarks and tests
        self.shared = 0

    def read(self, key: Hashable, fetch: Callable[[], T]) -> T:
        """`fetch()`'s result, from a call that started after this one was made. Callers
        share the result: they must not change it."""
        after: _Read[T] | None = None  # the read under way that this one follows
        with self._lock:
            running = self._running.get(key)
            forming = self._next.get(key)
            if running is None:
                mine = self._running[key] = _Read()
            elif forming is not None:
                self.shared += 1
                mine = forming
            else:
                mine = self._next[key] = _Read()
                after = running
        if mine is forming:
            mine.done.wait()
            return mine.outcome()
        if after is not None:
            after.done.wait()
            with self._lock:  # closed to joiners: later callers form the read after it
                del self._next[key]
                self._running[key] = mine
        try:
            mine.result = fetch()
        except BaseException as exc:
            mine.error = exc
        finally:
            with self._lock:
                self.reads += 1
                if key not in self._next:  # else its leader takes over the key
                    del self._running[key]
            mine.done.set()
        return mine.outcome()
