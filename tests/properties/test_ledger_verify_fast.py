"""The fast ledger verification (issue #9) reports exactly what the implementation before it
did (tests/ledger_reference.py): the same hashes, totals, counts and the same ids listed as
missing or unexpected, whatever the ledger's state — complete, behind, tampered or forged —
through the generic reader and, on PostgreSQL, through infrastructure's own reader."""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.context import Actor, command_context
from application.ledger import LedgerProcess, verify
from application.store import EventStore
from domain.ledger import JournalEntry, derive
from infrastructure.ledger_rows import event_rows
from tests.application.test_ledger_process import AT, forged_entry, memory_store
from tests.ledger_reference import reference_verify
from tests.properties.test_ledger_regeneration import flow


def tampered(source: Any) -> JournalEntry:
    """An entry under the id a real payment event's entry has, with other postings."""
    return JournalEntry(
        source_originator_id=source.originator_id,
        source_version=source.originator_version,
        source_type="Payment.ChargeCaptured",
        booking_id=getattr(source, "booking_id"),  # noqa: B009
        currency="EUR",
        postings=[
            {"account": "assets:bank", "side": "debit", "amount": 7, "currency": "EUR"},
            {"account": "revenue:platform_fees", "side": "credit", "amount": 7, "currency": "EUR"},
        ],
        at=AT,
    )


def build_ledger(store: EventStore, seed: int, flows: int, forged: int, tamper: bool) -> int:
    """Records random flows and part of their ledger; returns the ledger's position."""
    rng = random.Random(seed)
    events: list[Any] = []
    for n in range(flows):
        stream = flow(rng, n)
        store.save(*stream)
        events.extend(stream)
    with command_context(Actor.system()):
        money = [e for e in events if derive(e) is not None]
        if tamper and money:
            store.record(tampered(rng.choice(money)))
        for _ in range(forged):
            store.record(forged_entry(rng.randint(1, 10_000)))
    process = LedgerProcess(store, batch_size=rng.randint(1, 40))
    for _ in range(rng.randint(0, 4)):  # a ledger somewhere between empty and caught up
        process.step()
    return process.position()


def assert_same_reports(store: EventStore, position: int, show: int) -> None:
    readers = [None, event_rows(store)]
    for ledger_position in (None, position):
        expected = reference_verify(store, ledger_position=ledger_position, show=show).as_dict()
        for rows in readers:
            got = verify(store, ledger_position=ledger_position, show=show, rows=rows).as_dict()
            assert got == expected
            assert all(isinstance(i, UUID) for i in got["missing"] + got["unexpected"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    flows=st.integers(0, 12),
    forged=st.integers(0, 2),
    tamper=st.booleans(),
    show=st.integers(0, 5),
)
def test_fast_verify_equals_the_reference_in_memory(
    seed: int, flows: int, forged: int, tamper: bool, show: int
) -> None:
    store = memory_store()
    position = build_ledger(store, seed, flows, forged, tamper)
    assert_same_reports(store, position, show)


def test_fast_verify_equals_the_reference_on_sqlite_and_postgresql(
    money_store: EventStore,
) -> None:
    position = build_ledger(money_store, seed=11, flows=30, forged=1, tamper=True)
    assert_same_reports(money_store, position, show=20)
    LedgerProcess(money_store).catch_up()  # complete: the usual, one-hash case
    report = verify(money_store, rows=event_rows(money_store))
    assert report.as_dict() == reference_verify(money_store).as_dict()
    assert report.entries > 0
