"""On PostgreSQL verification reads the recorded entries from the ledger view's typed rows as
far as the view holds exactly the journal's entries, and their JSON after that. It must report
what the reference reports whatever the view's state (caught up, behind, absent, out of step
with the journal), and catch a view row edited in any column, added or removed."""

from __future__ import annotations

import random
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import tuple_row
from sqlalchemy import Engine, text

from application.context import Actor, command_context
from application.ledger import ENTRY_TOPICS, LedgerProcess, LedgerVerification, verify
from application.store import EventStore
from infrastructure.ledger_rows import event_rows
from infrastructure.ledger_view_rows import LedgerViewRows
from projections.ledger import LedgerView
from projections.runner import ProjectionRunner
from tests.application.test_ledger_process import forged_entry, record_flows
from tests.integration.shared_stores import (  # noqa: F401 - the fixtures
    ledger_pg_engine,
    ledger_pg_settings,
    ledger_pg_store,
)
from tests.ledger_reference import reference_verify
from tests.properties.test_ledger_verify_fast import build_ledger

pytestmark = pytest.mark.postgres


def project(store: EventStore, engine: Engine) -> None:
    ProjectionRunner(store, engine, [LedgerView()], batch_size=50).catch_up()


def viewed(store: EventStore) -> int:
    """Up to where verification would read the view's rows."""
    recorder: Any = store.recorder
    names = {
        "schema": psycopg.sql.Identifier(recorder.datastore.schema),
        "table": psycopg.sql.Identifier(recorder.events_table_name),
    }
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
        return LedgerViewRows(names).position(cur, ENTRY_TOPICS[0], store.current_position())


def fast(store: EventStore, **kwargs: Any) -> LedgerVerification:
    return verify(store, rows=event_rows(store), **kwargs)


def assert_as_reference(store: EventStore) -> None:
    assert fast(store).as_dict() == reference_verify(store).as_dict()


@pytest.fixture
def ledger(store: EventStore, engine: Engine) -> EventStore:
    """A complete ledger and its view, caught up."""
    record_flows(store, 20, seed=4)
    LedgerProcess(store, batch_size=16).catch_up()
    project(store, engine)
    assert viewed(store) == store.current_position()
    assert_as_reference(store)
    return store


def one_line(engine: Engine) -> tuple[Any, str, str, int, str]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT entry_id, account, side, amount, currency FROM ledger_postings "
                "WHERE line = 0 ORDER BY position LIMIT 1"
            )
        ).one()
    return row[0], row[1], row[2], row[3], row[4]


def edit(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


EDITS = {
    "account": "UPDATE ledger_postings SET account = 'assets:elsewhere'",
    "side": "UPDATE ledger_postings SET side = CASE side WHEN 'debit' THEN 'credit' "
    "ELSE 'debit' END",
    "amount": "UPDATE ledger_postings SET amount = amount + 1",
    "currency": "UPDATE ledger_postings SET currency = 'XXX'",
    "line": "UPDATE ledger_postings SET line = 99",  # the lines' order
    "position": "UPDATE ledger_postings SET position = position + 1",  # split off
    "removed": "DELETE FROM ledger_postings",
}


@pytest.mark.parametrize("column", sorted(EDITS))
def test_a_view_row_edited_in_any_column_is_a_mismatch(
    ledger: EventStore, engine: Engine, column: str
) -> None:
    entry_id, *_ = one_line(engine)
    edit(engine, EDITS[column] + " WHERE entry_id = :id AND line = 0", id=entry_id)

    report = fast(ledger)

    assert viewed(ledger) > 0
    assert not report.derived_matches_recorded or column == "line"
    assert report.missing == [entry_id] and not report.unexpected
    assert reference_verify(ledger).derived_matches_recorded  # the journal itself is intact
    if column in ("side", "amount", "removed"):
        assert not report.balanced


def test_a_posting_row_added_to_the_view_is_a_mismatch(ledger: EventStore, engine: Engine) -> None:
    entry_id, *_ = one_line(engine)
    edit(
        engine,
        "INSERT INTO ledger_postings (entry_id, line, position, account, side, amount, currency) "
        "SELECT entry_id, 50, position, account, side, amount, currency FROM ledger_postings "
        "WHERE entry_id = :id AND line = 0",
        id=entry_id,
    )

    report = fast(ledger)

    assert not report.derived_matches_recorded and not report.balanced
    assert report.missing == [entry_id]


def test_a_posting_row_moved_to_another_entry_is_a_mismatch(
    ledger: EventStore, engine: Engine
) -> None:
    entry_id, *_ = one_line(engine)
    moved_to = uuid4()
    edit(
        engine,
        "UPDATE ledger_postings SET entry_id = :to WHERE entry_id = :id AND line = 0",
        id=entry_id,
        to=moved_to,
    )

    report = fast(ledger)

    assert not report.derived_matches_recorded and not report.balanced
    assert report.missing == [entry_id] and report.unexpected == [moved_to]


@pytest.mark.parametrize(
    "change",
    [
        "DELETE FROM ledger_entries WHERE position = (SELECT min(position) FROM ledger_entries)",
        "UPDATE ledger_entries SET position = -position "
        "WHERE position = (SELECT min(position) FROM ledger_entries)",
        "UPDATE projection_tracking SET version = version + 1 WHERE name = 'ledger'",
        "DROP TABLE ledger_postings",
    ],
)
def test_a_view_out_of_step_with_the_journal_is_not_read(
    ledger: EventStore, engine: Engine, change: str
) -> None:
    edit(engine, change)

    assert viewed(ledger) == 0
    assert_as_reference(ledger)
    assert fast(ledger).derived_matches_recorded


def test_a_view_behind_is_read_as_far_as_it_goes_and_the_rest_from_json(
    ledger: EventStore, engine: Engine
) -> None:
    caught_up = viewed(ledger)
    record_flows(ledger, 10, seed=9)
    LedgerProcess(ledger, batch_size=16).catch_up()
    with command_context(Actor.system()):
        ledger.record(forged_entry())

    report = fast(ledger)

    assert viewed(ledger) == caught_up < ledger.current_position()
    assert_as_reference(ledger)
    assert len(report.unexpected) == 1 and not report.missing


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 10**6),
    flows=st.integers(0, 8),
    forged=st.integers(0, 2),
    tamper=st.booleans(),
    project_first=st.booleans(),
)
def test_verify_with_a_view_anywhere_equals_the_reference(
    store: EventStore,
    engine: Engine,
    seed: int,
    flows: int,
    forged: int,
    tamper: bool,
    project_first: bool,
) -> None:
    # One store across examples: each adds to the log, and the view lags or not.
    if project_first:
        project(store, engine)
    position = build_ledger(store, seed, flows, forged, tamper)
    if random.Random(seed).random() < 0.5:
        project(store, engine)
    for ledger_position in (None, position):
        expected = reference_verify(store, ledger_position=ledger_position).as_dict()
        assert fast(store, ledger_position=ledger_position).as_dict() == expected
