"""Group commit: concurrent saves share one transaction and one events-table lock.

Each caller hands `submit` the stored events of its own save (already encoded in its own
thread) and waits. The first caller to find nobody writing becomes the leader: it inserts
everything queued (up to `max_batch` members) with one `write`, hands each member its own
notification ids, and passes leadership to the first caller that queued meanwhile, so the
next group is "whatever queued while the last commit ran".

A group is all or nothing in the database, so a member that conflicts would fail the
others: when the group's write raises a version conflict (or a bad row), the leader writes
its members one by one instead and each gets its own outcome, exactly as if it had saved
alone. Two members that change the same stream never share a group (the later one, and any
member queued after it on its streams, waits for the next: each stream's saves commit in
the order they queued, so the outcomes are those of saving one by one in that order), and
a member whose stream this process has already committed past fails at once without a
round trip: its save could only conflict.

With a `checked_write` (PostgreSQL), a member may also name streams it decided on without
writing them and without reading them first (`reads`: the versions it acted on, e.g. a
cached listing), and every member's written streams are checked too (each must still be at
the version before its first new event). ONE statement in the group's transaction checks
all of them after the table lock and inserts only if all hold; the members whose checks
failed get an `IntegrityError` (they retry on fresh state) and the rest are written again
as a group, so one stale member costs its group a round trip, not a write per member.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import DataError, IntegrityError, StoredEvent

Write = Callable[[Sequence[StoredEvent]], Sequence[int] | None]
# Inserts the events if every (stream, version) is still the stream's latest version (0:
# none), else raises `StaleStreamsError` naming the checks that failed.
CheckedWrite = Callable[[Sequence[StoredEvent], Sequence[tuple[Any, int]]], Sequence[int]]


class StaleStreamsError(IntegrityError):
    """A checked write found streams not at the version expected; nothing was stored."""

    def __init__(self, stale: set[tuple[Any, int]]) -> None:
        super().__init__(f"streams moved on: {sorted((str(s), v) for s, v in stale)}")
        self.stale = stale


# Streams whose last committed version this process remembers (oldest forgotten first).
KNOWN_VERSIONS = 10_000


class _Member:
    __slots__ = ("done", "error", "events", "ids", "lead", "reads", "streams")

    def __init__(self, events: Sequence[StoredEvent], reads: dict[Any, int]) -> None:
        self.events = events
        self.reads = reads  # stream -> the version acted on, not written by this save
        self.streams: dict[Any, int] = {}  # stream -> first version this save writes
        for e in events:
            first = self.streams.get(e.originator_id)
            if first is None or e.originator_version < first:
                self.streams[e.originator_id] = e.originator_version
        # A latch, not a `threading.Event`: `Event.wait` and `set` are Python code around a
        # `Condition` (a lock made per wait, a waiter list), run by every member and, for
        # each member, by the leader; a held lock's `acquire`/`release` are C (issue #9).
        self.done = threading.Lock()
        self.done.acquire()  # released once, when this member is answered or leads
        self.lead = False
        self.ids: list[int] = []
        self.error: BaseException | None = None

    def checks(self) -> list[tuple[Any, int]]:
        """(stream, version it must still be at) for a checked write."""
        return [(s, first - 1) for s, first in self.streams.items()] + list(self.reads.items())

    def outcome(self) -> list[int]:
        if self.error is not None:
            raise self.error
        return self.ids


class GroupCommitter:
    """Batches concurrent `write`s of stored events; see the module docstring."""

    def __init__(
        self,
        write: Write,
        *,
        checked_write: CheckedWrite | None = None,
        max_batch: int = 64,
        window: float = 0.0,
    ) -> None:
        self._write = write
        self.checked_write = checked_write
        self.max_batch = max_batch
        self.window = window  # a fresh leader waits this long for peers when there are any
        self._lock = threading.Lock()
        self._queue: list[_Member] = []
        self._writing = False
        self._last_group = 1
        self._known: OrderedDict[Any, int] = OrderedDict()
        self.groups = 0  # counters, for benchmarks and tests
        self.members = 0
        self.fallbacks = 0
        self.stale_members = 0  # rejected by a checked write (in a group or alone)
        self.notifies = 0  # latches released by leaders (members answered, leadership passed)
        self.lead_cpu_s = 0.0  # leaders' thread CPU, batch taken to members woken (not locked: ~)

    @property
    def queued(self) -> int:
        """Members waiting for the next group."""
        with self._lock:
            return len(self._queue)

    @property
    def checks_reads(self) -> bool:
        """Whether `submit(..., reads=...)` checks the reads in the save's transaction."""
        return self.checked_write is not None

    def submit(
        self, events: Sequence[StoredEvent], reads: dict[Any, int] | None = None
    ) -> list[int]:
        """Writes `events` in one transaction (shared with other members); their
        notification ids in order. Raises what the write raised for this member alone.
        `reads`: streams (not written here) that must still be at these versions when the
        transaction commits (only checked when `checks_reads`)."""
        member = _Member(events, reads or {})
        with self._lock:
            stale = self._stale(member)
            if stale is None:
                self._queue.append(member)
                fresh_leader = not self._writing
                self._writing = True
        if stale is not None:
            raise IntegrityError(stale)
        if not fresh_leader:
            member.done.acquire()
            if not member.lead:
                return member.outcome()
        elif self.window and self._last_group > 1:
            time.sleep(self.window)
        self._lead()
        return member.outcome()

    def _stale(self, member: _Member) -> str | None:
        for stream, first in member.streams.items():
            known = self._known.get(stream)
            if known is not None and known >= first:
                return f"stream {stream} is already at version {known} (grouped save)"
        for stream, version in member.reads.items():
            known = self._known.get(stream)
            if known is not None and known > version:
                return f"stream {stream} read at {version} is at {known} (grouped save)"
        return None

    def _lead(self) -> None:
        cpu0 = time.thread_time()
        with self._lock:
            batch: list[_Member] = []
            taken: set[Any] = set()
            rest: list[_Member] = []
            for m in self._queue:
                if len(batch) < self.max_batch and taken.isdisjoint(m.streams):
                    batch.append(m)
                else:
                    rest.append(m)
                taken.update(m.streams)  # a stream's saves commit in the order they queued
            self._queue = rest
        try:
            self._commit(batch)
        finally:
            with self._lock:
                self._last_group = len(batch)
                self.groups += 1
                self.members += len(batch)
                for m in batch:
                    if m.error is None and not m.ids and m.events:
                        m.error = RuntimeError("group commit ended without an outcome")
                    if m.error is None:
                        self._remember(m)
                # Stale members still queued fail now rather than after a round trip.
                for m in list(self._queue):
                    if (stale := self._stale(m)) is not None:
                        m.error = IntegrityError(stale)
                        self._queue.remove(m)
                        m.done.release()
                        self.notifies += 1
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].done.release()
                    self.notifies += 1
                else:
                    self._writing = False
                self.notifies += len(batch) - 1  # the leader's own member is not woken
            for m in batch:
                if not m.lead:  # a leader's member was released when it was made leader
                    m.done.release()
            self.lead_cpu_s += time.thread_time() - cpu0

    def _commit(self, batch: list[_Member]) -> None:
        if len(batch) == 1:
            self._alone(batch[0])
            return
        live = list(batch)  # less the members a checked write rejects
        try:
            ids = self._write_group(live)
        except (IntegrityError, DataError):
            self.fallbacks += 1
            for m in live:
                self._alone(m)
            return
        except BaseException as exc:  # the database itself failed: each would have failed
            for m in live:
                m.error = exc
            return
        offset = 0
        for m in live:
            m.ids = list(ids[offset : offset + len(m.events)])
            offset += len(m.events)

    def _write_group(self, batch: list[_Member]) -> Sequence[int]:
        """The ids of `batch`'s events, in order; members a checked write finds stale are
        taken out of `batch` (with their error) and the rest written again."""
        while self.checked_write is not None:
            try:
                events = [e for m in batch for e in m.events]
                return self.checked_write(events, [c for m in batch for c in m.checks()])
            except StaleStreamsError as stale:
                rest = []
                for m in batch:
                    if stale.stale.isdisjoint(m.checks()):
                        rest.append(m)
                    else:
                        m.error = IntegrityError(str(stale))
                        self.stale_members += 1
                if len(rest) == len(batch):  # names no member's check: not ours to place
                    raise IntegrityError(str(stale)) from None
                batch[:] = rest
                if not batch:
                    return []
        return self._write([e for m in batch for e in m.events]) or []

    def _alone(self, member: _Member) -> None:
        try:
            if self.checked_write is not None:
                member.ids = list(self.checked_write(member.events, member.checks()))
            else:
                member.ids = list(self._write(member.events) or [])
        except BaseException as exc:
            member.error = exc
            self.stale_members += isinstance(exc, StaleStreamsError)

    def _remember(self, member: _Member) -> None:
        for e in member.events:
            if self._known.get(e.originator_id, 0) < e.originator_version:
                self._known[e.originator_id] = e.originator_version
                self._known.move_to_end(e.originator_id)
        while len(self._known) > KNOWN_VERSIONS:
            self._known.popitem(last=False)
