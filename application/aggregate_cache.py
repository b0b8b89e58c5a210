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

Readers that only look (fifty racers checking one calendar's nights) can share ONE decoded
instance per version instead of a copy each (`shared`); whoever then acts takes its own
copy (`own`: the shared instance itself when nobody else was handed it).
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.personal_data import PERSONAL_EVENTS, PERSONAL_SNAPSHOTS

# Decoded instances kept for sharing, the most recently used: by count, and by their bytes
# estimated as DECODED_PER_PICKLED times their pickled size (bench/aggregate_cache_memory.py:
# a listing decodes to ~6.6 kB from ~1.3 kB pickled, a calendar with 20 holds ~21 kB from
# ~3.6 kB). A placement only reads its listing, so listings stay decoded here: 1,024 slots
# hold a 500-listing working set for ~3.3 MB (32 slots made every placement decode again).
SHARED_SLOTS = 1024
SHARED_BYTES = 32_000_000
DECODED_PER_PICKLED = 6
UNKNOWN_PICKLED_BYTES = 4096  # an instance offered for sharing whose entry is not kept
# After a save found an entry stale (another process writes that stream too), commands
# read it first for this long rather than act on it unread and conflict again.
SUSPECT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Entry:
    version: int
    state: bytes  # the pickled aggregate at `version`


class _Shared:
    __slots__ = ("aggregate", "holders", "size", "version")

    def __init__(self, aggregate: Any, pickled_bytes: int) -> None:
        self.aggregate = aggregate
        self.version: int = aggregate.version
        self.holders = 1  # callers handed this instance
        self.size = pickled_bytes * DECODED_PER_PICKLED  # estimated decoded bytes


class AggregateCache:
    def __init__(
        self,
        maxsize: int,
        types: tuple[type[Any], ...],
        *,
        max_bytes: int | None = None,
        shared_slots: int = SHARED_SLOTS,
        shared_bytes: int = SHARED_BYTES,
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
        self._shared: OrderedDict[UUID, _Shared] = OrderedDict()
        self.shared_slots = shared_slots
        self.max_shared_bytes = shared_bytes
        self.shared_bytes = 0  # estimated, of the instances in `_shared`
        self._suspects: OrderedDict[UUID, float] = OrderedDict()  # id -> read first until
        self.suspect_seconds = SUSPECT_SECONDS
        # id -> a version another process committed (its notice): read first until there
        self._moved: dict[UUID, int] = {}
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

    def shared(self, aggregate_id: UUID, entry: Entry) -> Any:
        """The entry's aggregate as the one instance this process's callers share at that
        version (decoded once): read it, never change it; `own` gives a copy to act on."""
        with self._lock:
            slot = self._shared.get(aggregate_id)
            if slot is not None and slot.version == entry.version:
                slot.holders += 1
                self._shared.move_to_end(aggregate_id)
                return slot.aggregate
        aggregate = pickle.loads(entry.state)
        self.share(aggregate, len(entry.state))
        return aggregate

    def share(self, aggregate: Any, pickled_bytes: int | None = None) -> None:
        """Offers a just loaded aggregate, handed to one caller, for sharing."""
        with self._lock:
            slot = self._shared.get(aggregate.id)
            if slot is not None and slot.version >= aggregate.version:
                return  # that one stays shared; this instance stays its caller's alone
            if pickled_bytes is None:
                entry = self._entries.get(aggregate.id)
                pickled_bytes = len(entry.state) if entry is not None else UNKNOWN_PICKLED_BYTES
            self._unshare(aggregate.id)
            new = self._shared[aggregate.id] = _Shared(aggregate, pickled_bytes)
            self.shared_bytes += new.size
            while len(self._shared) > self.shared_slots or (
                self.shared_bytes > self.max_shared_bytes and len(self._shared) > 1
            ):
                self.shared_bytes -= self._shared.popitem(last=False)[1].size

    def _unshare(self, aggregate_id: UUID) -> None:
        slot = self._shared.pop(aggregate_id, None)  # the caller holds the lock
        if slot is not None:
            self.shared_bytes -= slot.size

    def own(self, aggregate: Any) -> Any:
        """A copy of a shared aggregate that the caller may change: the instance itself
        when this caller was the only one handed it (it is then shared no more)."""
        with self._lock:
            slot = self._shared.get(aggregate.id)
            if slot is not None and slot.aggregate is aggregate and slot.holders == 1:
                self._unshare(aggregate.id)
                return aggregate
            entry = self._entries.get(aggregate.id)
        if entry is not None and entry.version == aggregate.version:
            return pickle.loads(entry.state)
        return pickle.loads(pickle.dumps(aggregate, -1))

    def suspect(self, *ids: UUID) -> None:
        """A save acting on these ids' entries conflicted: not `trusted` for a while."""
        if self.suspect_seconds <= 0:
            return
        until = time.monotonic() + self.suspect_seconds
        with self._lock:
            for aggregate_id in ids:
                self._suspects[aggregate_id] = until
                self._suspects.move_to_end(aggregate_id)
            while len(self._suspects) > self.maxsize:
                self._suspects.popitem(last=False)

    def moved(self, streams: Iterable[tuple[UUID, int]]) -> None:
        """Another process committed these streams up to these versions: entries behind
        them are not `trusted` until a load brings them there (ids not kept: ignored)."""
        with self._lock:
            for aggregate_id, version in streams:
                entry = self._entries.get(aggregate_id)
                behind = entry is not None and entry.version < version
                if behind and version > self._moved.get(aggregate_id, 0):
                    self._moved[aggregate_id] = version

    def trusted(self, aggregate_id: UUID) -> bool:
        """Whether a command may act on this id's entry without reading it first."""
        if aggregate_id in self._moved:
            with self._lock:
                moved = self._moved.get(aggregate_id, 0)
                if self.version(aggregate_id) < moved:
                    return False
                self._moved.pop(aggregate_id, None)  # caught up
        until = self._suspects.get(aggregate_id)
        return until is None or until < time.monotonic()

    def discard(self, aggregate_id: UUID) -> None:
        with self._lock:
            self._unshare(aggregate_id)
            self._moved.pop(aggregate_id, None)
            if (entry := self._entries.pop(aggregate_id, None)) is not None:
                self.bytes -= len(entry.state)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._shared.clear()
            self.shared_bytes = 0
            self._moved.clear()
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
                evicted, old = self._entries.popitem(last=False)
                self.bytes -= len(old.state)
                self._moved.pop(evicted, None)
