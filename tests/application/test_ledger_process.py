"""The ledger process: one journal entry per money-moving payment event, whatever happens to
the process (crashes inside a page, restarts, replays from zero, a second process racing)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.popo import POPOTrackingRecorder

import application.ledger as ledger_module
from application.ledger import (
    ENTRY_TOPICS,
    LedgerProcess,
    canonical,
    hash_lines,
    verify,
    verify_process,
)
from application.store import EventStore
from domain.ledger import JournalEntry, UnbalancedEntryError, derive, ledger_hash
from domain.money import Money
from domain.payment import Payment
from tests.properties.test_ledger_regeneration import flow

AT = datetime(2026, 6, 1, tzinfo=UTC)


class Crash(RuntimeError):
    pass


def memory_store() -> EventStore:
    return EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def record_flows(store: EventStore, count: int, seed: int = 7) -> list[Any]:
    """Records `count` random payment flows (shuffled, duplicated processor facts);
    returns their events."""
    rng = random.Random(seed)
    events: list[Any] = []
    for n in range(count):
        stream = flow(rng, n)
        store.save(*stream)
        events.extend(stream)
    return events


def entry_ids_in_log(store: EventStore) -> Counter[Any]:
    notes = store.recorder.select_notifications(0, 10**6, topics=ENTRY_TOPICS)
    return Counter(n.originator_id for n in notes)


def expected_ids(events: list[Any]) -> set[Any]:
    return {d.id for d in map(derive, events) if d is not None}


def assert_each_entry_recorded_once(store: EventStore, events: list[Any]) -> None:
    counts = entry_ids_in_log(store)
    assert set(counts) == expected_ids(events)
    assert set(counts.values()) == {1}


class CrashingTracking(POPOTrackingRecorder):
    """Loses the process right after a page committed, before its position is written."""

    def __init__(self, crash_on: int) -> None:
        super().__init__()
        self.calls = 0
        self.crash_on = crash_on

    def insert_tracking(self, tracking: Tracking) -> None:
        self.calls += 1
        if self.calls == self.crash_on:
            raise Crash("lost before the tracking write")
        super().insert_tracking(tracking)


def test_every_money_moving_payment_event_gets_exactly_one_entry(money_store: EventStore) -> None:
    store = money_store
    events = record_flows(store, 200)

    LedgerProcess(store, batch_size=40).catch_up()

    assert_each_entry_recorded_once(store, events)
    result = verify(store)
    assert result.balanced and result.derived_matches_recorded
    assert result.entries == result.derived_entries == len(expected_ids(events))


def test_a_page_is_one_save_of_several_entries(money_store: EventStore) -> None:
    store = money_store
    record_flows(store, 50)
    saves: list[int] = []
    original = store.record

    def counting(*aggregates: Any) -> int:
        saves.append(len(aggregates))
        return original(*aggregates)

    store.record = counting  # type: ignore[method-assign]
    LedgerProcess(store, batch_size=100).catch_up()

    assert len(saves) < sum(saves) / 10  # tens of entries per transaction, not one


def test_a_crash_inside_a_page_before_it_commits_loses_nothing(
    monkeypatch: pytest.MonkeyPatch,
    money_store: EventStore,
) -> None:
    store = money_store
    events = record_flows(store, 120)
    tracking = POPOTrackingRecorder()
    calls = {"n": 0}
    real_entry_for = ledger_module.entry_for

    def entry_for_that_dies(event: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 130:  # in the middle of the fourth page
            raise Crash("killed mid-page")
        return real_entry_for(event)

    monkeypatch.setattr(ledger_module, "entry_for", entry_for_that_dies)
    with pytest.raises(Crash):
        LedgerProcess(store, tracking, batch_size=40).catch_up()
    stopped_at = tracking.max_tracking_id(ledger_module.TRACKING_NAME)
    assert stopped_at is not None and 0 < stopped_at < store.current_position()

    monkeypatch.setattr(ledger_module, "entry_for", real_entry_for)
    LedgerProcess(store, tracking, batch_size=40).catch_up()  # the restart

    assert_each_entry_recorded_once(store, events)


def test_a_crash_after_a_page_committed_but_before_its_position_doubles_nothing(
    money_store: EventStore,
) -> None:
    store = money_store
    events = record_flows(store, 120)
    tracking = CrashingTracking(crash_on=3)

    with pytest.raises(Crash):
        LedgerProcess(store, tracking, batch_size=40).catch_up()
    LedgerProcess(store, tracking, batch_size=40).catch_up()  # re-reads the committed page

    assert_each_entry_recorded_once(store, events)
    assert verify(store).derived_matches_recorded


def test_replaying_the_whole_log_from_zero_records_nothing_new(money_store: EventStore) -> None:
    store = money_store
    events = record_flows(store, 80)
    LedgerProcess(store, batch_size=30).catch_up()
    head = store.current_position()

    LedgerProcess(store, POPOTrackingRecorder(), batch_size=30).catch_up()  # tracking lost

    assert store.current_position() == head
    assert_each_entry_recorded_once(store, events)


def test_two_processes_racing_on_one_log_record_each_entry_once(money_store: EventStore) -> None:
    store = money_store
    events = record_flows(store, 200)
    shared: TrackingRecorder = POPOTrackingRecorder()
    processes = [LedgerProcess(store, shared, batch_size=25) for _ in range(2)]
    processes.append(LedgerProcess(store, POPOTrackingRecorder(), batch_size=25))
    threads = [threading.Thread(target=p.catch_up) for p in processes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert_each_entry_recorded_once(store, events)


def test_run_forever_follows_new_payment_events_until_stopped(money_store: EventStore) -> None:
    store = money_store
    process = LedgerProcess(store)
    stop = threading.Event()
    worker = threading.Thread(target=process.run_forever, args=(stop, 0.05))
    worker.start()
    try:
        payment = Payment.open(uuid4(), uuid4(), uuid4(), quote(10_000), None, uuid4(), AT)
        payment.capture_charge("evt_1", "pi_1", Money(10_000, "EUR"), Money(300, "EUR"), AT)
        position = store.record(payment)
        deadline = threading.Event()
        for _ in range(100):
            if process.position() >= position:
                break
            deadline.wait(0.05)
    finally:
        stop.set()
        worker.join(5)

    assert process.position() >= position
    assert len(entry_ids_in_log(store)) == 1
    assert verify(store).derived_matches_recorded


def test_an_unbalanced_entry_cannot_be_recorded(money_store: EventStore) -> None:
    store = money_store
    lines = [
        {"account": "assets:processor_balance", "side": "debit", "amount": 100, "currency": "EUR"},
        {"account": "revenue:platform_fees", "side": "credit", "amount": 99, "currency": "EUR"},
    ]

    with pytest.raises(UnbalancedEntryError):
        JournalEntry(
            source_originator_id=uuid4(),
            source_version=1,
            source_type="Payment.ChargeCaptured",
            booking_id=uuid4(),
            currency="EUR",
            postings=lines,
            at=AT,
        )
    assert store.current_position() == 0


def test_verify_reports_an_entry_no_payment_event_made(money_store: EventStore) -> None:
    store = money_store
    record_flows(store, 30)
    LedgerProcess(store).catch_up()
    assert verify(store).derived_matches_recorded

    forged = forged_entry()
    store.record(forged)
    result = verify(store)

    assert result.balanced  # the forged entry balances, it is just not the payments' ledger
    assert not result.derived_matches_recorded
    assert result.unexpected == [forged.id]
    assert result.recorded_hash != result.derived_hash


def test_verify_reports_payment_events_the_ledger_has_not_recorded(money_store: EventStore) -> None:
    store = money_store
    events = record_flows(store, 10)

    result = verify(store)

    assert result.entries == 0
    assert not result.derived_matches_recorded
    assert set(result.missing) <= expected_ids(events) and result.missing


def test_a_ledger_merely_behind_the_log_is_no_mismatch(money_store: EventStore) -> None:
    store = money_store
    record_flows(store, 10)
    process = LedgerProcess(store)
    process.catch_up()
    caught_up = process.position()
    events = record_flows(store, 10, seed=8)

    behind = verify_process(process)
    head = store.current_position()
    process.catch_up()
    after = verify_process(process)

    assert behind.derived_matches_recorded and behind.balanced
    assert behind.ledger_position == behind.position == caught_up
    assert behind.lag == head - caught_up > 0
    assert behind.log_position == head
    assert not behind.missing
    assert after.derived_matches_recorded and after.lag == 0
    assert after.entries == after.derived_entries == behind.entries + len(expected_ids(events))


def test_entries_due_but_absent_are_a_mismatch_even_with_a_position(
    money_store: EventStore,
) -> None:
    store = money_store
    events = record_flows(store, 5)
    tracking = POPOTrackingRecorder()
    tracking.insert_tracking(Tracking("ledger", store.current_position()))  # lied about

    result = verify_process(LedgerProcess(store, tracking))

    assert result.lag == 0 and not result.derived_matches_recorded
    assert set(result.missing) <= expected_ids(events) and result.missing


def test_an_entry_recorded_ahead_of_the_tracked_position_is_still_compared(
    money_store: EventStore,
) -> None:
    store = money_store
    record_flows(store, 5)
    tracking = POPOTrackingRecorder()
    LedgerProcess(store, tracking).catch_up()
    ahead = LedgerProcess(store, POPOTrackingRecorder())  # its page committed, position lost

    result = verify_process(ahead)

    assert result.ledger_position == 0 and result.lag > 0
    assert result.derived_matches_recorded and result.entries == result.derived_entries > 0
    store.record(forged_entry())
    assert not verify_process(ahead).derived_matches_recorded


def quote(total: int) -> dict[str, Any]:
    payout = total * 85 // 100
    return {
        "currency": "EUR",
        "total": total,
        "owner_payout": payout,
        "service_fee": total - payout,
        "commission": 0,
        "tax": 0,
    }


def forged_entry(amount: int = 5_000) -> JournalEntry:
    return JournalEntry(
        source_originator_id=uuid4(),
        source_version=1,
        source_type="Payment.ChargeCaptured",
        booking_id=uuid4(),
        currency="EUR",
        postings=[
            {"account": "assets:bank", "side": "debit", "amount": amount, "currency": "EUR"},
            {
                "account": "revenue:platform_fees",
                "side": "credit",
                "amount": amount,
                "currency": "EUR",
            },
        ],
        at=AT,
    )


def test_verification_hashes_exactly_as_the_domain_ledger_hash(money_store: EventStore) -> None:
    store = money_store
    events = record_flows(store, 40)
    derived = [d for d in map(derive, events) if d is not None]

    lines = {d.id: [canonical(p.as_dict()) for p in d.postings] for d in derived}

    assert all(canonical(p.as_dict()) == p.canonical() for d in derived for p in d.postings)
    assert hash_lines(lines) == ledger_hash(derived)
