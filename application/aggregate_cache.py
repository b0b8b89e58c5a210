"""A per-process cache of hot aggregates that is never used without a fast-forward.

A placement loads its listing and calendar; from the store each costs a snapshot read plus
a tail read. The cache keeps their last state seen by this process (pickled: entries are
immutable, so threads share them without a lock, and unpickling is several times cheaper
than `copy.deepcopy`), and every load still asks the database for the events after that
version — for all the streams a command needs in ONE query where the recorder can
(`select_streams`, infrastructure/stream_reads.py). So a cached state is never used
stale: a listing deactivated or repriced by another worker process is seen by the very
next load here, exactly as a cold load would see it.

Only the entries' version and bytes are shared; what `advance` returns is the caller's own
copy to act on. The cache only ever holds what the database committed (filled from loads
and from saves once they have committed, never from what a command is about to save), so
a failed or conflicting save cannot taint it. Only aggregate types without personal data
may be cached (checked at construction): an erasure destroys keys, and decrypted personal
data must not outlive them in memory.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.personal_data import PERSONAL_EVENTS, PERSONAL_SNAPSHOTS


@dataclass(frozen=True, slots=True)
class Entry:
    version: int
    state: bytes  # the pickled aggregate at `version`


class AggregateCache:
    def __init__(
        self, maxsize: int, types: tuple[type[Any], ...], *, max_bytes: int | None = None
    ) -> None:
        for cls in types:
            topic = get_topic(cls)
            personal = [t for t in PERSONAL_EVENTS if t.startswith(topic + ".")]
            if personal or topic in PERSONAL_SNAPSHOTS:
                raise ValueError(f"{topic} holds personal data and must not be cached")
        self.maxsize = maxsize
        # Calendars grow with their bookings: the entries' bytes are bounded too.
        self.max_bytes = max_bytes
        self.bytes = 0
        self.types = types
        self._entries: OrderedDict[UUID, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0  # counters, for benchmarks and tests
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, aggregate_id: UUID) -> Entry | None:
        with self._lock:
            entry = self._entries.get(aggregate_id)
            if entry is None:
                self.misses += 1
            else:
                self.hits += 1
                self._entries.move_to_end(aggregate_id)
            return entry

    def version(self, aggregate_id: UUID) -> int:
        """The version kept for that id (0: none); not counted as a use."""
        entry = self._entries.get(aggregate_id)
        return entry.version if entry is not None else 0

    def put(self, aggregate: Any) -> None:
        """Keeps a just loaded or just saved (committed, nothing pending) aggregate of a
        cached type."""
        if isinstance(aggregate, self.types) and not aggregate.pending_events:
            self._store(aggregate.id, aggregate.version, pickle.dumps(aggregate, -1))

    def advance(self, entry: Entry, events: Iterable[Any]) -> Any | None:
        """A copy of the entry's aggregate with `events` (its stream's events after the
        entry's version, as just read) applied; None if they do not follow on from it,
        after which the entry is gone and the caller loads from the store."""
        aggregate = pickle.loads(entry.state)
        moved = False
        try:
            for event in events:
                event.mutate(aggregate)  # checks the version follows on
                moved = True
        except Exception:
            self.discard(aggregate.id)
            return None
        if moved and self.version(aggregate.id) < aggregate.version:  # else: already kept
            self._store(aggregate.id, aggregate.version, pickle.dumps(aggregate, -1))
        return aggregate

    def discard(self, aggregate_id: UUID) -> None:
        with self._lock:
            if (entry := self._entries.pop(aggregate_id, None)) is not None:
                self.bytes -= len(entry.state)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def _store(self, aggregate_id: UUID, version: int, state: bytes) -> None:
        with self._lock:
            known = self._entries.get(aggregate_id)
            if known is not None and known.version >= version:
                return  # another thread kept a later state meanwhile
            self.bytes += len(state) - (len(known.state) if known is not None else 0)
            self._entries[aggregate_id] = Entry(version, state)
            self._entries.move_to_end(aggregate_id)
            while len(self._entries) > self.maxsize or (
                self.max_bytes is not None and self.bytes > self.max_bytes
            ):
                self.bytes -= len(self._entries.popitem(last=False)[1].state)
