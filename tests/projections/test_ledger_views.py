"""The ledger views, fed with the entries the ledger process records (in-memory store, SQLite
views): balances equal the domain's `balances(derive(...))`, entries by booking and account,
and a replay or a rebuild changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from application.ledger import LedgerProcess
from application.store import EventStore
from domain.errors import RuleViolation
from domain.ledger import PROCESSOR_BALANCE, balances, derive, owner_payable
from infrastructure.views_db import create_views_engine
from projections import ledger as views
from projections.ledger import LedgerView
from projections.runner import ProjectionRunner
from tests.application.test_ledger_process import memory_store, record_flows


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def store() -> EventStore:
    return memory_store()


@pytest.fixture
def events(store: EventStore) -> list[Any]:
    events = record_flows(store, 150, seed=11)
    LedgerProcess(store, batch_size=64).catch_up()
    return events


@pytest.fixture
def runner(store: EventStore, engine: Engine) -> ProjectionRunner:
    runner = ProjectionRunner(store, engine, [LedgerView()], batch_size=17)
    runner.catch_up()
    return runner


def all_balances(runner: ProjectionRunner, engine: Engine, **filters: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return views.account_balances(conn, runner.tables("ledger"), **filters)


def as_map(rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    return {(r["account"], r["currency"]): r["balance"] for r in rows}


def derived_balances(events: list[Any]) -> dict[tuple[str, str], int]:
    return balances(d for d in map(derive, events) if d is not None)


def test_balances_view_equals_the_balances_of_the_derived_ledger(
    events: list[Any], runner: ProjectionRunner, engine: Engine
) -> None:
    rows = all_balances(runner, engine)

    assert as_map(rows) == derived_balances(events)
    for currency in {r["currency"] for r in rows}:
        assert sum(r["balance"] for r in rows if r["currency"] == currency) == 0


def test_owner_accounts_carry_the_owner_and_filter_by_owner(
    events: list[Any], runner: ProjectionRunner, engine: Engine
) -> None:
    owner_id = next(e.owner_id for e in events if type(e).__name__ == "ChargeCaptured")

    rows = all_balances(runner, engine, owner_id=owner_id)

    assert rows and {r["owner_id"] for r in rows} == {owner_id}
    assert owner_payable(owner_id) in {r["account"] for r in rows}
    expected = {k: v for k, v in derived_balances(events).items() if str(owner_id) in k[0]}
    assert as_map(rows) == expected


def test_balances_filter_by_currency_and_account_prefix(
    events: list[Any], runner: ProjectionRunner, engine: Engine
) -> None:
    usd = all_balances(runner, engine, currency="usd")
    liabilities = all_balances(runner, engine, prefix="liabilities:")
    nothing = all_balances(runner, engine, prefix="liabilities:%")  # LIKE wildcards are literal

    assert usd and {r["currency"] for r in usd} == {"USD"}
    assert liabilities and all(r["account"].startswith("liabilities:") for r in liabilities)
    assert nothing == []


def test_balances_page_by_account_then_currency(
    events: list[Any], runner: ProjectionRunner, engine: Engine
) -> None:
    everything = all_balances(runner, engine)
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        page = all_balances(runner, engine, limit=7, after=after)
        paged.extend(page)
        if len(page) < 7:
            break
        after = (page[-1]["account"], page[-1]["currency"])

    assert paged == everything


def test_entries_by_booking_list_each_of_its_entries_in_order(
    events: list[Any], runner: ProjectionRunner, engine: Engine
) -> None:
    booking_id = next(e.booking_id for e in events if type(e).__name__ == "ChargeCaptured")
    expected = [
        d.id
        for e in events
        if getattr(e, "booking_id", None) == booking_id
        for d in [derive(e)]
        if d
    ]
    with engine.connect() as conn:
        rows, cursor = views.entries(conn, runner.tables("ledger"), booking_id=booking_id)

    assert cursor is None
    assert [r["id"] for r in rows] == expected
    assert all(r["booking_id"] == booking_id for r in rows)
    first = rows[0]
    assert first["source_type"] == "Payment.ChargeCaptured" or first["postings"]


def test_entries_by_account_page_through_every_entry_touching_it(
    events: list[Any], runner: ProjectionRunner, engine: Engine
) -> None:
    expected = [
        d.id
        for d in map(derive, events)
        if d is not None and any(p.account == PROCESSOR_BALANCE for p in d.postings)
    ]
    seen: list[Any] = []
    cursor = None
    with engine.connect() as conn:
        while True:
            rows, cursor = views.entries(
                conn, runner.tables("ledger"), account=PROCESSOR_BALANCE, limit=50, cursor=cursor
            )
            seen.extend(r["id"] for r in rows)
            if cursor is None:
                break

    assert sorted(map(str, seen)) == sorted(map(str, expected))
    assert len(seen) == len(set(seen))


def test_a_forged_cursor_is_refused(runner: ProjectionRunner, engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(RuleViolation):
        views.entries(conn, runner.tables("ledger"), cursor="bm90LWEtY3Vyc29y")


def test_replaying_entries_into_the_view_adds_nothing(
    store: EventStore, events: list[Any], runner: ProjectionRunner, engine: Engine
) -> None:
    before = all_balances(runner, engine)
    tables = runner.tables("ledger")
    notes = store.recorder.select_notifications(0, 10**6, topics=LedgerView.topics)
    page = [(store.mapper.to_domain_event(n), n.id) for n in notes]
    with engine.begin() as conn:
        LedgerView().process_page(conn, tables, page[:40])
        LedgerView().process_page(conn, tables, page)

    assert all_balances(runner, engine) == before
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(tables["entries"])).scalar()
    assert count == len(page)


def test_a_rebuild_gives_the_same_balances_and_entries(
    events: list[Any], runner: ProjectionRunner, engine: Engine
) -> None:
    before = all_balances(runner, engine)
    with engine.connect() as conn:
        entries_before, _ = views.entries(conn, runner.tables("ledger"), limit=100)

    runner.rebuild("ledger")

    assert all_balances(runner, engine) == before
    with engine.connect() as conn:
        assert views.entries(conn, runner.tables("ledger"), limit=100)[0] == entries_before
