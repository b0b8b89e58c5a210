"""The money property (`test_money_stateful.py`: processor facts in any order, duplicated,
refused) on a real event store, SQLite and PostgreSQL: every payment event is stored as it
happens; at the end the ledger process records the same entries the model derived in
memory, `verify` finds the recorded ledger equal to the derivation, and the payment loaded
back from the store is the one the machine holds.

Fewer examples on PostgreSQL (each is a round trip per save) than on SQLite, and fewer than
the in-memory machine runs: they check storage, not the money rules again."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from application.ledger import ENTRY_TOPICS, LedgerProcess, verify_process
from application.store import EventStore
from tests.money_stores import is_postgres
from tests.properties.test_money_stateful import MoneyMachine


def stored_entries(store: EventStore, booking_id: Any) -> dict[Any, list[str]]:
    entries: dict[Any, list[str]] = {}
    for note in store.recorder.select_notifications(0, 10**6, topics=ENTRY_TOPICS):
        entry = store.mapper.to_domain_event(note)
        if entry.booking_id == booking_id:
            entries[note.originator_id] = sorted(
                f"{p['account']}|{p['side']}|{p['amount']}" for p in entry.postings
            )
    return entries


def stored_machine(store: EventStore) -> type[MoneyMachine]:
    class StoredMoneyMachine(MoneyMachine):
        def record(self) -> list[Any]:
            events = super().record()
            if events:
                store.save(*events)  # the events exactly as the model saw them
            return events

        def teardown(self) -> None:
            if not hasattr(self, "payment"):
                return  # no example was drawn
            LedgerProcess(store).catch_up()
            expected = {
                entry.id: sorted(f"{p.account}|{p.side}|{p.money.amount}" for p in entry.postings)
                for entry in self.entries.values()
            }
            assert stored_entries(store, self.payment.booking_id) == expected
            report = verify_process(LedgerProcess(store))
            assert report.balanced and report.derived_matches_recorded and report.lag == 0
            loaded = store.repository.get(self.payment.id)
            assert loaded.version == self.payment.version
            assert loaded.owner_balance == self.payment.owner_balance
            assert (loaded.charge, loaded.refunds) == (self.payment.charge, self.payment.refunds)
            assert loaded.deposit_hold == self.payment.deposit_hold

    return StoredMoneyMachine


def test_money_flows_on_a_real_store(money_store: EventStore) -> None:
    run_state_machine_as_test(
        stored_machine(money_store),
        settings=settings(
            max_examples=15 if is_postgres(money_store) else 40,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
