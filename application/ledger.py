"""The ledger process: follows payment events and records one `JournalEntry` per event.

Crash safety comes from the entries, not from where the process says it is. An entry's id is
uuid5 of its source event, so the events table's primary key refuses a second copy: a page is
recorded in one `store.record(...)` transaction, and only after it commits does the tracked
position move on. A crash before the commit leaves nothing and the page is read again; a crash
between the commit and the tracking write means the page is read again and its entries are
already there, so the whole-page save fails as a duplicate and is redone with only the entries
that are missing. A lost tracking record only costs a replay of no-ops. Nothing is lost,
nothing is doubled, and two processes racing on the same page converge the same way.

The position is an eventsourcing `Tracking` in the event store's own database (its
`TrackingRecorder`), written after the page; writing it in the same transaction as the entries
would need the store built with a process recorder, which the idempotent ids make unnecessary.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, Tracking, TrackingRecorder
from eventsourcing.utils import get_topic

from application.context import Actor, command_context
from application.ledger_lines import (
    EventRows,
    LedgerLines,
    RawEvent,
    RecordedLedger,
    no_gc,
    notification_rows,
)
from application.store import EventStore
from domain.ledger import RULES, JournalEntry, entry_for

log = logging.getLogger(__name__)

TRACKING_NAME = "ledger"
MAX_ATTEMPTS = 5  # a page another process keeps racing us on
# Only events with a posting rule can make an entry; the rest of Payment's events are skipped
# by the recorder's topic filter.
SOURCE_TOPICS = tuple(sorted(get_topic(cls) for cls in RULES))
ENTRY_TOPICS = (get_topic(JournalEntry.Recorded),)  # type: ignore[attr-defined]


class LedgerProcess:
    def __init__(
        self,
        store: EventStore,
        tracking: TrackingRecorder | None = None,
        *,
        batch_size: int = 500,
    ) -> None:
        self.store = store
        self.tracking = tracking if tracking is not None else store.factory.tracking_recorder()
        self.batch_size = batch_size
        self._lock = threading.Lock()  # one page at a time in this process

    def position(self) -> int:
        """The log position up to which every payment event has its entry."""
        return self.tracking.max_tracking_id(TRACKING_NAME) or 0

    def step(self, stop: int | None = None) -> bool:
        """Records the entries of one page of payment events after the tracked position, up
        to `stop` (default: the head of the log). True when there is more to read now."""
        with self._lock:
            start = self.position()
            head = self.store.current_position() if stop is None else stop
            if start >= head:
                return False
            notes = self.store.recorder.select_notifications(
                start, self.batch_size, stop=head, topics=SOURCE_TOPICS, inclusive_of_start=False
            )
            full = len(notes) == self.batch_size
            self._record_page(notes)
            self._advance(notes[-1].id if full else head)
            return full

    def catch_up(self) -> int:
        """Processes everything recorded so far, in this thread; returns the position."""
        head = self.store.current_position()  # a busy writer must not keep us here
        while self.step(head):
            pass
        self.step()  # one more page: past the entries just recorded, so no lag is left
        return self.position()

    def run_forever(self, stop_event: threading.Event, interval: float = 0.5) -> None:
        """Follows the log until `stop_event` is set; a failing page is retried with backoff.
        Saves wake it through the store's listener, polling every `interval` otherwise."""
        wake = threading.Event()

        def on_recorded(_position: int) -> None:
            wake.set()

        self.store.add_listener(on_recorded)
        failures = 0
        try:
            while not stop_event.is_set():
                wake.clear()
                try:
                    more = self.step()
                except Exception:
                    failures += 1
                    log.exception("ledger process failed at position %s", self._safe_position())
                    stop_event.wait(min(30.0, 0.2 * 2**failures))
                    continue
                failures = 0
                if not more:
                    wake.wait(interval)
        finally:
            self.store.remove_listener(on_recorded)

    # -- recording -----------------------------------------------------------------------

    def _record_page(self, notes: Sequence[Notification]) -> None:
        events = [self.store.mapper.to_domain_event(n) for n in notes]
        entries = [e for e in map(entry_for, events) if e is not None]
        if not entries:
            return
        with command_context(Actor.system()):
            for attempt in range(MAX_ATTEMPTS):
                try:
                    self.store.record(*entries)
                    return
                except IntegrityError:
                    if attempt == MAX_ATTEMPTS - 1:
                        raise
                # Some of the page is recorded already (a replay after a crash, or another
                # process racing): the failed save recorded nothing, so record what is
                # missing. It consumed the entries' pending events: derive them again.
                entries = [
                    entry
                    for entry in map(entry_for, events)
                    if entry is not None and not self.store.exists(entry.id)
                ]
                if not entries:
                    return

    def _advance(self, position: int) -> None:
        try:
            self.tracking.insert_tracking(Tracking(TRACKING_NAME, position))
        except IntegrityError:
            if self.position() < position:  # not another process having got there first
                raise

    def _safe_position(self) -> int | None:
        try:
            return self.position()
        except Exception:
            return None


# -- verification ------------------------------------------------------------------------


@dataclass
class LedgerVerification:
    balanced: bool
    entries: int
    total_debits: dict[str, int]
    total_credits: dict[str, int]
    derived_matches_recorded: bool
    recorded_hash: str
    derived_hash: str
    derived_entries: int
    missing: list[UUID] = field(default_factory=list)  # derived, not (or not so) recorded
    unexpected: list[UUID] = field(default_factory=list)  # recorded, not derivable
    position: int = 0  # verified up to: the ledger's position
    log_position: int = 0
    ledger_position: int = 0

    @property
    def lag(self) -> int:
        """Events the ledger process has still to read; being behind is no mismatch."""
        return max(0, self.log_position - self.ledger_position)

    def as_dict(self) -> dict[str, Any]:
        return {
            "balanced": self.balanced,
            "entries": self.entries,
            "total_debits": self.total_debits,
            "total_credits": self.total_credits,
            "derived_matches_recorded": self.derived_matches_recorded,
            "recorded_hash": self.recorded_hash,
            "derived_hash": self.derived_hash,
            "derived_entries": self.derived_entries,
            "missing": self.missing,
            "unexpected": self.unexpected,
            "position": self.position,
            "ledger_position": self.ledger_position,
            "log_position": self.log_position,
            "lag": self.lag,
        }


def canonical(line: dict[str, Any]) -> str:
    """`Posting.canonical()` of a posting as recorded (a dict), without building it."""
    return f"{line['account']}|{line['side']}|{int(line['amount'])}|{line['currency']}"


def hash_lines(entries: dict[Any, list[str]]) -> str:
    """`ledger_hash` over entries given as canonical posting lines (ids as UUID or text)."""
    return ledger_hash_of_lines(f"{i}|{line}" for i, lines in entries.items() for line in lines)


def ledger_hash_of_lines(lines: Iterable[str]) -> str:
    # One update over the joined text: the same digest as one update per line and newline.
    ordered = sorted(lines)
    if not ordered:
        return hashlib.sha256().hexdigest()
    return hashlib.sha256(("\n".join(ordered) + "\n").encode()).hexdigest()


def verify(
    store: EventStore,
    *,
    ledger_position: int | None = None,
    show: int = 20,
    rows: EventRows | None = None,
    progress: Progress | None = None,
) -> LedgerVerification:
    """Regenerates the ledger from the payment events in the log, in memory, and compares it
    with the recorded journal entries; checks every recorded entry balances per currency.
    Lists up to `show` ids of entries missing from, or unexpected in, the recorded ledger.

    With `ledger_position` (the ledger process's, read before this call) only the payment
    events up to it must have their entries: a ledger merely behind is not a mismatch. An
    entry already recorded for a later event (a page committed, its position not yet
    written) is still compared; one no payment event makes is always a mismatch.
    `rows` reads the stored events (infrastructure has a faster one for PostgreSQL);
    `progress` hears (position read, head) as the events are read, for a progress bar."""
    head = store.current_position()
    cutoff = head if ledger_position is None else min(ledger_position, head)
    read = rows if rows is not None else notification_rows(store.recorder)
    with no_gc():
        return _compare(read, head, cutoff, show, LedgerLines(store.mapper), progress)


Progress = Callable[[int, int], None]  # (position read, head)
REPORT_EVERY = 1_000  # rows between progress reports: a callback per row would cost


def _reported(rows: Iterable[RawEvent], head: int, progress: Progress | None) -> Iterable[RawEvent]:
    return rows if progress is None else _reporting(rows, head, progress)


def _reporting(rows: Iterable[RawEvent], head: int, progress: Progress) -> Iterator[RawEvent]:
    reported = 0
    for count, row in enumerate(rows, 1):
        yield row
        if count % REPORT_EVERY == 0:
            reported = row[0]
            progress(reported, head)
    if reported != head:
        progress(head, head)  # the rest of the log holds no rows of these topics


def _compare(
    read: EventRows,
    head: int,
    cutoff: int,
    show: int,
    reader: LedgerLines,
    progress: Progress | None = None,
) -> LedgerVerification:
    # Keyed by the entry id as text (str(UUID)): what the hash is made of.
    due: dict[str, list[str]] = {}
    ahead: dict[str, list[str]] = {}
    recorded_ledger = getattr(read, "recorded_ledger", None)
    if recorded_ledger is not None:
        # The database reads the recorded entries (JSON operators) on its own core while
        # this thread derives the entries from the payment events.
        with ThreadPoolExecutor(1, thread_name_prefix="ledger-verify") as pool:
            pending = pool.submit(recorded_ledger, head)
            for row in _reported(read(SOURCE_TOPICS, 0, head), head, progress):
                if (entry := reader.derived(row)) is not None:
                    (due if row[0] <= cutoff else ahead)[entry[0]] = entry[1]
            ledger: RecordedLedger = pending.result()
        recorded, debits, credits = ledger.lines, ledger.debits, ledger.credits
        balanced = ledger.balanced
    else:
        recorded, debits, credits, balanced = _read_all(
            _reported(read(SOURCE_TOPICS + ENTRY_TOPICS, 0, head), head, progress),
            cutoff,
            reader,
            due,
            ahead,
        )
    return _report(due, ahead, recorded, debits, credits, balanced, head, cutoff, show)


def _read_all(
    rows: Iterable[RawEvent],
    cutoff: int,
    reader: LedgerLines,
    due: dict[str, list[str]],
    ahead: dict[str, list[str]],
) -> tuple[dict[str, list[str]], dict[str, int], dict[str, int], bool]:
    entry_topic = ENTRY_TOPICS[0]
    recorded: dict[str, list[str]] = {}
    debits: dict[str, int] = {}
    credits: dict[str, int] = {}
    balanced = True
    for row in rows:
        if row[3] == entry_topic:
            lines = reader.recorded(row)
            recorded[row[1]] = [canonical(p) for p in lines]
            net: dict[str, int] = {}
            for p in lines:
                amount, currency = int(p["amount"]), p["currency"]
                balanced = balanced and amount > 0
                totals = debits if p["side"] == "debit" else credits
                totals[currency] = totals.get(currency, 0) + amount
                net[currency] = net.get(currency, 0) + (amount if p["side"] == "debit" else -amount)
            balanced = balanced and bool(net) and not any(net.values())
        elif (entry := reader.derived(row)) is not None:
            (due if row[0] <= cutoff else ahead)[entry[0]] = entry[1]
    return recorded, debits, credits, balanced


def _report(
    due: dict[str, list[str]],
    ahead: dict[str, list[str]],
    recorded: dict[str, list[str]],
    debits: dict[str, int],
    credits: dict[str, int],
    balanced: bool,
    head: int,
    cutoff: int,
    show: int,
) -> LedgerVerification:
    balanced = balanced and debits == credits
    derived = due | {i: lines for i, lines in ahead.items() if i in recorded}
    derived_hash = hash_lines(derived)
    # Equal line for line (and so in hash) in the usual case: hash once, list nothing.
    same = recorded == derived
    recorded_hash = derived_hash if same else hash_lines(recorded)
    missing = [] if same else [i for i, lines in derived.items() if recorded.get(i) != lines]
    unexpected = [] if same else [i for i in recorded if i not in derived]
    return LedgerVerification(
        balanced=balanced,
        entries=len(recorded),
        total_debits=dict(sorted(debits.items())),
        total_credits=dict(sorted(credits.items())),
        derived_matches_recorded=recorded_hash == derived_hash,
        recorded_hash=recorded_hash,
        derived_hash=derived_hash,
        derived_entries=len(derived),
        missing=[UUID(i) for i in missing[:show]],
        unexpected=[UUID(i) for i in unexpected[:show]],
        position=cutoff,
        log_position=head,
        ledger_position=cutoff,
    )


def verify_process(
    process: LedgerProcess,
    *,
    show: int = 20,
    rows: EventRows | None = None,
    progress: Progress | None = None,
) -> LedgerVerification:
    """`verify` up to where the ledger process has got: what the admin API and CLI report."""
    position = process.position()
    return verify(process.store, ledger_position=position, show=show, rows=rows, progress=progress)
