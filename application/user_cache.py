"""Users' profiles cached per process, never used without asking the store what is new.

`GET /users/me` read the user's stream on every request: a snapshot-and-tail query, an
AES-GCM opening of each personal field, a replay (~0.6 ms of CPU on PostgreSQL, a third of
the request). `AggregateCache` refuses users (personal data); this cache keeps what a
profile read returns and respects erasure instead:

- every hit first reads the user's events after the cached version (one indexed query,
  ~0.13 ms): if there is one (an edit, a role, a suspension, `User.Erased`), from this
  process or another, the entry is dropped and the caller loads from the store, which
  opens the fields with the keys as they are now. An entry is never served stale.
- an entry lives at most `seconds` (the key ring's own key cache time, so decrypted data
  stays in memory no longer than the key that opened it may), and an erasure in this
  process drops it at once (`discard`); a load that raced a discard is not kept (`epoch`).

Entries are kept in the order they were put, which is their expiry order, so the expired
ones are swept from the front on every use. Values are immutable (frozen dataclasses of
tuples and strings): threads share them as they are.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

from application.store import EventStore

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    version: int
    value: T
    until: float  # on `clock`


class UserCache(Generic[T]):
    def __init__(
        self,
        store: EventStore,
        *,
        maxsize: int = 10_000,
        seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.maxsize = maxsize
        self.seconds = seconds
        self._clock = clock
        self._entries: dict[UUID, _Entry[T]] = {}
        self._lock = threading.Lock()
        self._epoch = 0  # moves on every discard
        self.hits = 0  # counters, for benchmarks and tests
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def epoch(self) -> int:
        """Read before loading what `put` is then given."""
        return self._epoch

    def get(self, user_id: UUID) -> T | None:
        """The cached value when no event was stored for the user since it was cached;
        None (load from the store) otherwise."""
        with self._lock:
            self._sweep()
            entry = self._entries.get(user_id)
        if entry is not None:
            if not self._store.recorder.select_events(user_id, gt=entry.version, limit=1):
                with self._lock:
                    self.hits += 1
                return entry.value
            self.discard(user_id)
        with self._lock:
            self.misses += 1
        return None

    def put(self, user_id: UUID, version: int, value: T, *, epoch: int) -> None:
        """Keeps `value`, read from the store at `version`, unless something was discarded
        since `epoch` was read or a later version is kept already."""
        if self.maxsize <= 0 or self.seconds <= 0:
            return
        with self._lock:
            if epoch != self._epoch:
                return
            known = self._entries.get(user_id)
            if known is not None and known.version > version:
                return
            self._entries.pop(user_id, None)  # to the end: the dict stays in expiry order
            self._entries[user_id] = _Entry(version, value, self._clock() + self.seconds)
            self._sweep()

    def discard(self, user_id: UUID) -> None:
        with self._lock:
            self._epoch += 1
            self._entries.pop(user_id, None)

    def _sweep(self) -> None:
        """Drops the expired entries and the oldest beyond `maxsize` (under the lock)."""
        now = self._clock()
        entries = self._entries
        while entries:
            oldest = next(iter(entries))
            if len(entries) <= self.maxsize and entries[oldest].until > now:
                break
            del entries[oldest]

    def clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self._entries.clear()
