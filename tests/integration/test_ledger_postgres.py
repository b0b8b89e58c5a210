"""The ledger on PostgreSQL: the process's tracking table, a crash between a committed page
and its position, two processes on one log, and the views against the derived ledger."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from sqlalchemy import Engine

from application.ledger import LedgerProcess, verify
from application.store import EventStore
from domain.ledger import balances, derive
from projections import ledger as views
from projections.ledger import LedgerView
from projections.runner import ProjectionRunner
from tests.application.test_ledger_process import (
    Crash,
    assert_each_entry_recorded_once,
    forged_entry,
    record_flows,
)
from tests.integration.shared_stores import (  # noqa: F401 - the fixtures
    ledger_pg_engine,
    ledger_pg_settings,
    ledger_pg_store,
)

pytestmark = pytest.mark.postgres


def test_a_restart_after_a_crash_between_commit_and_position_records_each_entry_once(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = record_flows(store, 150, seed=5)
    first = LedgerProcess(store, batch_size=50)
    real_insert = first.tracking.insert_tracking
    calls = {"n": 0}

    def lost_on_the_third(tracking: Tracking) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash("lost before the tracking write")
        real_insert(tracking)

    monkeypatch.setattr(first.tracking, "insert_tracking", lost_on_the_third)
    with pytest.raises(Crash):
        first.catch_up()
    stopped_at = first.position()
    assert 0 < stopped_at < store.current_position()

    restarted = LedgerProcess(store, batch_size=50)  # a new process: position from the table
    assert restarted.position() == stopped_at
    restarted.catch_up()

    assert_each_entry_recorded_once(store, events)
    result = verify(store)
    assert result.balanced and result.derived_matches_recorded


def test_two_processes_on_one_postgres_log_record_each_entry_once(store: EventStore) -> None:
    events = record_flows(store, 150, seed=6)
    processes = [LedgerProcess(store, batch_size=20) for _ in range(2)]
    failures: list[Exception] = []

    def run(process: LedgerProcess) -> None:
        try:
            process.catch_up()
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in processes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert failures == []
    assert_each_entry_recorded_once(store, events)


def test_views_on_postgres_equal_the_derived_ledger_and_verify_catches_a_forgery(
    store: EventStore, engine: Engine
) -> None:
    events = record_flows(store, 120, seed=8)
    LedgerProcess(store, batch_size=64).catch_up()
    runner = ProjectionRunner(store, engine, [LedgerView()], batch_size=50)
    runner.catch_up()

    with engine.connect() as conn:
        rows = views.account_balances(conn, runner.tables("ledger"))
        booking_id = next(e.booking_id for e in events if hasattr(e, "booking_id"))
        by_booking, _ = views.entries(conn, runner.tables("ledger"), booking_id=booking_id)
    derived: dict[tuple[str, str], int] = balances(d for d in map(derive, events) if d)
    assert {(r["account"], r["currency"]): r["balance"] for r in rows} == derived
    expected: list[Any] = [
        d.id
        for e in events
        if getattr(e, "booking_id", None) == booking_id
        for d in [derive(e)]
        if d
    ]
    assert [r["id"] for r in by_booking] == expected

    store.record(forged_entry())
    assert not verify(store).derived_matches_recorded
