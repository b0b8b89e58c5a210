"""A capture that reconciliation synthesised (its webhook lost) records the processor's real
fee, read from the charge's balance transaction, so the ledger's fee account is right:
on the simulated gateway end to end, and through the Stripe adapter with recorded responses;
each on SQLite and PostgreSQL (`money_store`)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from application.ledger import ENTRY_TOPICS, LedgerProcess, verify_process
from application.payment_followups import missed_events
from application.store import EventStore
from domain.ledger import PROCESSOR_FEES
from domain.money import Money
from domain.payment import Payment, payment_id_for
from infrastructure.stripe_gateway import StripeGateway
from tests.application.test_ledger_process import quote
from tests.application.test_payments_flows import NOW, make_env
from tests.integration.test_stripe_gateway import (  # fixtures: the recorded Stripe server
    BOOKING,
    PAYMENT,
    RecordedStripe,
    gateway,  # noqa: F401
    recorded,  # noqa: F401
)


def fee_account(store: EventStore) -> tuple[int, int]:
    """Debits and credits of `expenses:processor_fees` over the recorded journal."""
    debits = credits = 0
    for note in store.recorder.select_notifications(0, 10**6, topics=ENTRY_TOPICS):
        for p in store.mapper.to_domain_event(note).postings:
            if p["account"] == PROCESSOR_FEES:
                if p["side"] == "debit":
                    debits += int(p["amount"])
                else:
                    credits += int(p["amount"])
    return debits, credits


def test_a_reconciled_capture_books_the_processors_fee(
    tmp_path: Path, money_store: EventStore
) -> None:
    env = make_env(tmp_path, store=money_store, deposit=None, deliver=False)  # webhooks lost
    booking_id = env.place()
    env.payments.start_payment(env.world.renter, booking_id, NOW)
    env.gateway.settle(payment_id_for(booking_id), succeed=True)
    assert env.payments.payment(booking_id).charge["status"] != "captured"

    env.payments.reconcile_booking(booking_id, NOW)

    payment = env.payments.payment(booking_id)
    total = payment.charge["captured"]
    expected_fee = round(total * 0.015) + 25  # what the simulated processor charged
    assert total > 0 and payment.charge["fee"] == expected_fee
    store = env.world.store
    LedgerProcess(store).catch_up()
    assert fee_account(store) == (expected_fee, 0)
    assert verify_process(LedgerProcess(store)).derived_matches_recorded


def test_the_stripe_adapter_completes_a_reconciled_capture_with_its_fee(
    recorded: RecordedStripe,  # noqa: F811
    gateway: StripeGateway,  # noqa: F811
    money_store: EventStore,
) -> None:
    intent = "pi_3QaBcD2eZvKYlo2C1xYz0001"
    recorded.answer("GET", f"/v1/payment_intents/{intent}", "payment_intent_retrieve_succeeded")
    payment = Payment.open(BOOKING, PAYMENT, PAYMENT, quote(45_600), None, PAYMENT, NOW)
    payment.request_charge("k-charge", PAYMENT, NOW)
    payment.record_charge_intent(intent, NOW)
    access: Any = SimpleNamespace(gateway=gateway)

    (event,) = missed_events(access, payment)
    recorded.answer("GET", "/v1/charges/ch_3QaBcD2eZvKYlo2C1chg01", "charge_retrieve_expanded")
    completed = gateway.complete(event)

    assert event.id == f"reconcile:{intent}:succeeded" and event.fee is None
    assert completed.fee == Money(709, "EUR")
    assert completed.amount == Money(45_600, "EUR")
    assert payment.capture_charge(completed.id, intent, completed.amount, completed.fee, NOW)
    assert payment.charge["fee"] == 709
    money_store.record(payment)  # and the fee is what the stored events say
    assert money_store.load(payment.id, "payment").charge["fee"] == 709
