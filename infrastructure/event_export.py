"""JSON Lines exports of the event log for auditors, and their offline verification.

Each line is one stored event with its hash and the hash it chains to (`prev_hash`), so a
file that starts mid-stream can still be re-hashed line by line, and consecutive events of a
stream inside the file must link up.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO
from uuid import UUID

from infrastructure.audit_log import PAGE, Progress
from infrastructure.event_hashing import GENESIS, event_hash
from infrastructure.event_log import EventLog, LoggedEvent

RecordedAt = Callable[[LoggedEvent], datetime]


@dataclass(frozen=True)
class Bounds:
    """Positions are inclusive at both ends; instants are [start, stop)."""

    first: int = 1
    last: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def admits(self, at: datetime | None) -> bool:
        if at is None:
            return self.since is None and self.until is None
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)


def export_events(
    log: EventLog,
    out: TextIO,
    bounds: Bounds,
    *,
    recorded_at: RecordedAt | None = None,
    on_progress: Progress | None = None,
) -> int:
    """Writes the events within `bounds` as JSON Lines; returns how many."""
    heads: dict[UUID, bytes] = {}
    written, after = 0, bounds.first - 1
    while rows := log.page(after, PAGE):
        for row in rows:
            if bounds.last is not None and row.notification_id > bounds.last:
                return written
            after = row.notification_id
            at = recorded_at(row) if recorded_at else None
            if not bounds.admits(at):
                continue
            prev = heads.get(row.stream_id)
            if prev is None:
                stored = log.stored_hash(row.stream_id, row.version - 1)
                prev = stored if row.version > 1 and stored else GENESIS
            out.write(json.dumps(_line(row, prev, at), separators=(",", ":")) + "\n")
            heads[row.stream_id] = row.hash or b""
            written += 1
        if on_progress is not None:
            on_progress(after)
    return written


def _line(row: LoggedEvent, prev: bytes, at: datetime | None) -> dict[str, Any]:
    return {
        "notification_id": row.notification_id,
        "stream_id": str(row.stream_id),
        "version": row.version,
        "topic": row.topic,
        "recorded_at": at.isoformat() if at else None,
        "state": base64.b64encode(row.state).decode(),
        "prev_hash": prev.hex(),
        "hash": (row.hash or b"").hex(),
    }


@dataclass(frozen=True)
class ExportBreak:
    line: int
    reason: str  # unreadable | out_of_order | chain_break | hash_mismatch
    notification_id: int | None = None
    stream_id: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class ExportReport:
    lines_checked: int
    broken: ExportBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_export(lines: Iterable[str]) -> ExportReport:
    """Re-hashes every line and checks the links between lines; names the first break."""
    heads: dict[str, tuple[int, str]] = {}
    last_id = 0
    checked = 0
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            entry = json.loads(text)
            nid, stream, version = entry["notification_id"], entry["stream_id"], entry["version"]
            prev, state = bytes.fromhex(entry["prev_hash"]), base64.b64decode(entry["state"])
            # Only the canonical spelling is accepted, so no two files mean the same events.
            canonical = (str(UUID(stream)), prev.hex(), base64.b64encode(state).decode())
            if canonical != (stream, entry["prev_hash"], entry["state"]):
                raise ValueError("not canonical")
            expected = event_hash(prev, UUID(stream), version, nid, entry["topic"], state).hex()
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
            return ExportReport(checked, ExportBreak(number, "unreadable"))
        where = (nid, stream, version)
        if nid <= last_id:
            return ExportReport(checked, ExportBreak(number, "out_of_order", *where))
        head = heads.get(stream)
        starts = version == 1 and entry["prev_hash"] != GENESIS.hex()
        if starts or (head and (version != head[0] + 1 or entry["prev_hash"] != head[1])):
            return ExportReport(checked, ExportBreak(number, "chain_break", *where))
        if expected != entry["hash"]:
            return ExportReport(checked, ExportBreak(number, "hash_mismatch", *where))
        heads[stream] = (version, entry["hash"])
        last_id = nid
        checked += 1
    return ExportReport(checked, None)
