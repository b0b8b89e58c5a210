"""Per-process maps on request paths stay bounded: the payment intents remembered until
the payments view has them (application/payment_access.py), the in-process login lockouts
(infrastructure/ratelimit.py) and the set-based statements' caches keyed by table object
(projections/bulk.py: every erasure's repair rebuilds into new tables). Dropping an entry
changes no answer: an intent evicted is answered by the view, a lapsed lock was no lock, a
statement is built again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import cast
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table
from sqlalchemy.dialects import postgresql

from application import payment_access
from application.bookings import Bookings
from application.payment_access import NoQueries, PaymentAccess
from application.payment_gateway import PaymentGateway
from infrastructure.ratelimit import InMemoryLoginFailures
from projections import bulk

PAYMENTS = [uuid4() for _ in range(4)]


class ViewQueries(NoQueries):
    """The payments view: it has every intent (it caught up)."""

    def __init__(self) -> None:
        self.intents: dict[str, UUID] = {}

    def payment_for(self, processor_id: str) -> UUID | None:
        return self.intents.get(processor_id)


@given(
    remembered=st.lists(
        st.tuples(st.sampled_from([f"pi_{i}" for i in range(8)]), st.sampled_from(PAYMENTS)),
        max_size=30,
    )
)
def test_intents_held_are_capped_and_answers_unchanged(
    remembered: list[tuple[str, UUID]],
) -> None:
    view = ViewQueries()
    access = PaymentAccess(
        cast(Bookings, SimpleNamespace(store=None)), cast(PaymentGateway, None), queries=view
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(payment_access, "INTENTS_HELD", 3)
        for intent, payment in remembered:
            access.remember_intent(intent, payment)
            view.intents[intent] = payment  # the projection catches up
            assert len(access._intents) <= 3
        for intent in {f"pi_{i}" for i in range(8)}:
            assert access.payment_for(intent) == view.intents.get(intent)


def test_lapsed_lockouts_of_accounts_never_tried_again_are_dropped() -> None:
    window = timedelta(minutes=15)
    failures = InMemoryLoginFailures(1, window, window, max_keys=10)
    at = datetime(2026, 12, 6, tzinfo=UTC)
    for i in range(200):  # each account locked once, then left alone
        assert failures.record_failure(f"user{i}", at + i * window) == at + (i + 1) * window
        assert len(failures) <= 11
    assert failures.locked_until("user199", at + 199 * window) == at + 200 * window


def test_statements_for_tables_of_past_rebuilds_are_not_kept_for_ever() -> None:
    conn = cast(Connection, SimpleNamespace(dialect=postgresql.dialect()))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulk, "CACHED_SHAPES", 5)
        for rebuild in range(20):  # each rebuild's fresh table, as `repair_erasure` makes
            table = Table(
                f"guests_{rebuild}", MetaData(), Column("id", Integer), Column("name", String)
            )
            procs = bulk.bind_processors(conn, table, ["id", "name"])
            assert procs == bulk.bind_processors(conn, table, ["id", "name"])  # a hit
            sql, _ = bulk._keyed(conn, table, ["id"], "DELETE FROM {t} WHERE id = ANY({a0})")
            assert f"guests_{rebuild}" in sql
            assert len(bulk._procs_cache) <= 5
            assert len(bulk._sql_cache) <= 5
