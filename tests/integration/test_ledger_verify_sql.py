"""On PostgreSQL the recorded ledger is read by SQL (JSON operators over the stored journal
entries); it must judge malformed entries exactly as the reference does: no postings,
unbalanced, non-positive amounts, several currencies — stored as they are, since the
aggregate itself would refuse most of them."""

from __future__ import annotations

from typing import Any

import pytest

from application.context import Actor, command_context
from application.ledger import LedgerProcess, verify
from application.store import EventStore
from infrastructure.ledger_rows import event_rows
from tests.application.test_ledger_process import forged_entry, record_flows
from tests.ledger_reference import reference_verify
from tests.money_stores import is_postgres


def line(account: str, side: str, amount: int, currency: str = "EUR") -> dict[str, Any]:
    return {"account": account, "side": side, "amount": amount, "currency": currency}


MALFORMED = {
    "no postings": [],
    "unbalanced": [line("assets:bank", "debit", 5), line("revenue:fees", "credit", 4)],
    "negative": [line("assets:bank", "debit", -5), line("revenue:fees", "credit", -5)],
    "zero": [line("assets:bank", "debit", 0), line("revenue:fees", "credit", 0)],
    "credits only": [line("revenue:fees", "credit", 5, "GBP")],
    "neither side": [line("assets:bank", "debit", 5), line("revenue:fees", "owed", 5)],
    "two currencies": [
        line("assets:bank", "debit", 5),
        line("revenue:fees", "credit", 5),
        line("assets:bank", "debit", 7, "USD"),
        line("revenue:fees", "credit", 7, "USD"),
    ],
    "one currency off": [
        line("assets:bank", "debit", 5),
        line("revenue:fees", "credit", 5),
        line("assets:bank", "debit", 7, "USD"),
    ],
}


def record_as_stored(store: EventStore, postings: list[dict[str, Any]]) -> None:
    entry = forged_entry()
    object.__setattr__(entry.pending_events[0], "postings", postings)
    with command_context(Actor.system()):
        store.record(entry)


def assert_same_as_reference(store: EventStore) -> None:
    expected = reference_verify(store).as_dict()
    assert verify(store, rows=event_rows(store)).as_dict() == expected
    assert verify(store).as_dict() == expected


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_sql_read_ledger_judges_a_malformed_entry_as_the_reference(
    money_store: EventStore, case: str
) -> None:
    record_flows(money_store, 6)
    LedgerProcess(money_store).catch_up()
    assert_same_as_reference(money_store)  # balanced and complete first
    record_as_stored(money_store, MALFORMED[case])
    assert_same_as_reference(money_store)
    report = verify(money_store, rows=event_rows(money_store))
    # The reference counts a side other than "debit" as a credit.
    assert report.balanced is (case in ("two currencies", "neither side"))
    assert report.unexpected  # forged: no payment event makes it


def test_postgresql_reader_offers_the_recorded_ledger(money_store: EventStore) -> None:
    rows = event_rows(money_store)
    assert hasattr(rows, "recorded_ledger") is is_postgres(money_store)
