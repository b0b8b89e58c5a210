"""Re-hashes the whole event log (`rentbook audit verify`, `GET /admin/audit/verify`) and
seals global checkpoints over it.

A checkpoint chains to the one before and folds, in log order, the notification id and
hash of every event after it, so dropping a stream's last event (which no later event of
the stream would notice) still breaks a checkpoint.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from infrastructure.event_hashing import GENESIS, event_hash
from infrastructure.event_log import Checkpoint, EventLog

PAGE = 1000
Progress = Callable[[int], None]  # called with the notification id reached


@dataclass(frozen=True)
class BrokenLink:
    reason: str  # hash_mismatch | missing_hash | version_gap | checkpoint_mismatch
    notification_id: int
    stream_id: UUID | None = None
    version: int | None = None
    checkpoint_id: int | None = None


@dataclass(frozen=True)
class VerifyReport:
    events_checked: int
    checkpoints_checked: int
    log_position: int
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _fold(hasher: hashlib._Hash, notification_id: int, digest: bytes) -> None:
    hasher.update(notification_id.to_bytes(8, "big", signed=True) + digest)


class _Checkpoints:
    """Recomputes checkpoints as the verifier walks the log."""

    def __init__(self, checkpoints: list[Checkpoint]) -> None:
        self._pending = list(checkpoints)
        self._hasher = hashlib.sha256(GENESIS)
        self._count = 0
        self.checked = 0

    def close_before(self, notification_id: int) -> BrokenLink | None:
        """Closes every checkpoint that ends before `notification_id`."""
        while self._pending and self._pending[0].last_notification_id < notification_id:
            checkpoint = self._pending.pop(0)
            if self._hasher.digest() != checkpoint.hash or self._count != checkpoint.event_count:
                return BrokenLink(
                    "checkpoint_mismatch",
                    checkpoint.last_notification_id,
                    checkpoint_id=checkpoint.checkpoint_id,
                )
            self.checked += 1
            self._hasher = hashlib.sha256(checkpoint.hash)
            self._count = 0
        return None

    def add(self, notification_id: int, digest: bytes) -> None:
        _fold(self._hasher, notification_id, digest)
        self._count += 1


def verify_log(log: EventLog, *, on_progress: Progress | None = None) -> VerifyReport:
    """Walks the log in order and names the first broken link, if any."""
    position = log.position()
    heads: dict[UUID, tuple[int, bytes]] = {}
    checkpoints = _Checkpoints(log.checkpoints())
    checked, after = 0, 0
    broken: BrokenLink | None = None
    while broken is None and (rows := log.page(after, PAGE)):
        for row in rows:
            broken = checkpoints.close_before(row.notification_id)
            if broken is not None:
                break
            version, prev = heads.get(row.stream_id, (0, GENESIS))
            link = (row.notification_id, row.stream_id, row.version)
            if row.version != version + 1:
                broken = BrokenLink("version_gap", *link)
                break
            if row.hash is None:
                broken = BrokenLink("missing_hash", *link)
                break
            expected = event_hash(
                prev, row.stream_id, row.version, row.notification_id, row.topic, row.state
            )
            if expected != row.hash:
                broken = BrokenLink("hash_mismatch", *link)
                break
            heads[row.stream_id] = (row.version, expected)
            checkpoints.add(row.notification_id, expected)
            checked += 1
            after = row.notification_id
        if on_progress is not None:
            on_progress(after)
    if broken is None:
        # Checkpoints past the end of the log mean its tail was removed.
        broken = checkpoints.close_before(2**63 - 1)
    return VerifyReport(checked, checkpoints.checked, position, broken)


def backfill_hashes(log: EventLog) -> int:
    """Hashes the events stored before the hash chain existed (an upgraded store), in log
    order; returns how many. Rows that already carry a hash are left alone."""
    heads: dict[UUID, bytes] = {}
    filled, after = 0, 0
    while rows := log.page(after, PAGE):
        for row in rows:
            digest = row.hash
            if digest is None:
                prev = heads.get(row.stream_id, GENESIS)
                digest = event_hash(
                    prev, row.stream_id, row.version, row.notification_id, row.topic, row.state
                )
                log.fill_hash(row, digest)
                filled += 1
            heads[row.stream_id] = digest
            after = row.notification_id
    return filled


def seal_checkpoint(log: EventLog, *, min_events: int = 1) -> Checkpoint | None:
    """Seals the events recorded since the last checkpoint (when there are at least
    `min_events`). Insert order is commit order in the store, so no earlier id can appear
    later. None when there was nothing to seal or another sealer won the race."""
    existing = log.checkpoints()
    last = existing[-1] if existing else None
    after = last.last_notification_id if last else 0
    hasher = hashlib.sha256(last.hash if last else GENESIS)
    count = 0
    while rows := log.page(after, PAGE):
        for row in rows:
            _fold(hasher, row.notification_id, row.hash or b"")
            count += 1
            after = row.notification_id
    if count < min_events:
        return None
    checkpoint = Checkpoint((last.checkpoint_id if last else 0) + 1, after, count, hasher.digest())
    return checkpoint if log.add_checkpoint(checkpoint) else None


def run_checkpoints(
    open_log: Callable[[], EventLog], stop: threading.Event, interval: float, min_events: int = 1
) -> None:
    """Seals a checkpoint every `interval` seconds when enough events arrived."""
    while not stop.wait(interval):
        with open_log() as log:
            seal_checkpoint(log, min_events=min_events)


def start_checkpoints(
    open_log: Callable[[], EventLog], stop: threading.Event, interval: float
) -> threading.Thread:
    args = (open_log, stop, interval)
    thread = threading.Thread(target=run_checkpoints, args=args, name="checkpoints", daemon=True)
    thread.start()
    return thread
