"""Verification reads the view's totals per currency with one statement over its postings
(not summed entry by entry in Python): whatever the postings hold, edited or not, the totals
are those of every posting as it stands, the same as summing each entry's, and an edit still
shows in the balance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from application.store import EventStore
from tests.integration.shared_stores import (  # noqa: F401 - the fixtures
    ledger_pg_engine,
    ledger_pg_settings,
    ledger_pg_store,
)
from tests.integration.test_ledger_verify_view import (  # noqa: F401 - the `ledger` fixture
    EDITS,
    edit,
    fast,
    ledger,
    one_line,
    viewed,
)

pytestmark = pytest.mark.postgres


def posting_totals(engine: Engine) -> Iterator[tuple[str, str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT currency, side, amount FROM ledger_postings ORDER BY entry_id, line")
        ).all()
    for currency, side, amount in rows:
        yield currency, side, int(amount)


def summed(engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
    """Debits and credits per currency of every posting of the view, as they stand."""
    debits: dict[str, int] = {}
    credits: dict[str, int] = {}
    for currency, side, amount in posting_totals(engine):
        totals = debits if side == "debit" else credits
        totals[currency] = totals.get(currency, 0) + amount
    return dict(sorted(debits.items())), dict(sorted(credits.items()))


def test_the_totals_of_an_intact_view_are_its_postings(
    ledger: EventStore,  # noqa: F811
    engine: Engine,
) -> None:
    report = fast(ledger)

    assert viewed(ledger) == ledger.current_position()
    assert report.balanced and report.derived_matches_recorded
    assert (report.total_debits, report.total_credits) == summed(engine)
    assert report.total_debits == report.total_credits


@pytest.mark.parametrize("column", ["amount", "currency", "side", "removed"])
def test_the_totals_of_an_edited_view_are_its_postings_as_they_stand(
    ledger: EventStore,  # noqa: F811
    engine: Engine,
    column: str,
) -> None:
    entry_id, *_ = one_line(engine)
    edit(engine, EDITS[column] + " WHERE entry_id = :id AND line = 0", id=entry_id)

    report = fast(ledger)

    assert viewed(ledger) > 0
    assert (report.total_debits, report.total_credits) == summed(engine)
    assert not report.balanced
    assert report.missing == [entry_id]
