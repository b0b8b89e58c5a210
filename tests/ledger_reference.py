"""`application.ledger.verify` as it was before issue #9 made it fast: every payment event
decoded into its domain event and derived into `Posting`/`Money` objects, recorded entries
keyed by `UUID`, the log read in pages by count. Kept as the oracle the fast path must equal
(tests/properties/test_ledger_verify_fast.py) and as the "before" of bench/ledger.py."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.ledger import (
    ENTRY_TOPICS,
    SOURCE_TOPICS,
    LedgerVerification,
    canonical,
    hash_lines,
)
from application.store import EventStore
from domain.ledger import derive


def _notes(store: EventStore, stop: int, page: int = 5000) -> list[Any]:
    out: list[Any] = []
    start = 0
    while start < stop:
        notes = store.recorder.select_notifications(
            start, page, stop=stop, topics=SOURCE_TOPICS + ENTRY_TOPICS, inclusive_of_start=False
        )
        if not notes:
            break
        out.extend(notes)
        start = notes[-1].id
    return out


def reference_verify(
    store: EventStore, *, ledger_position: int | None = None, show: int = 20
) -> LedgerVerification:
    head = store.current_position()
    cutoff = head if ledger_position is None else min(ledger_position, head)
    entry_topic = ENTRY_TOPICS[0]
    due: dict[UUID, list[str]] = {}
    ahead: dict[UUID, list[str]] = {}
    recorded: dict[UUID, list[str]] = {}
    debits: dict[str, int] = {}
    credits: dict[str, int] = {}
    balanced = True
    for note in _notes(store, head):
        if note.topic == entry_topic:
            lines = list(getattr(store.mapper.to_domain_event(note), "postings"))  # noqa: B009
            recorded[note.originator_id] = [canonical(p) for p in lines]
            net: dict[str, int] = {}
            for p in lines:
                amount, currency = int(p["amount"]), p["currency"]
                balanced = balanced and amount > 0
                totals = debits if p["side"] == "debit" else credits
                totals[currency] = totals.get(currency, 0) + amount
                net[currency] = net.get(currency, 0) + (amount if p["side"] == "debit" else -amount)
            balanced = balanced and bool(net) and not any(net.values())
        else:
            entry = derive(store.mapper.to_domain_event(note))
            if entry is not None:
                (due if note.id <= cutoff else ahead)[entry.id] = [
                    p.canonical() for p in entry.postings
                ]
    balanced = balanced and debits == credits
    derived = due | {i: lines for i, lines in ahead.items() if i in recorded}
    recorded_hash, derived_hash = hash_lines(recorded), hash_lines(derived)
    missing = [i for i, lines in derived.items() if recorded.get(i) != lines]
    unexpected = [i for i in recorded if i not in derived]
    return LedgerVerification(
        balanced=balanced,
        entries=len(recorded),
        total_debits=dict(sorted(debits.items())),
        total_credits=dict(sorted(credits.items())),
        derived_matches_recorded=recorded_hash == derived_hash,
        recorded_hash=recorded_hash,
        derived_hash=derived_hash,
        derived_entries=len(derived),
        missing=missing[:show],
        unexpected=unexpected[:show],
        position=cutoff,
        log_position=head,
        ledger_position=cutoff,
    )
