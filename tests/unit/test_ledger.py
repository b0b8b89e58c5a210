"""Ledger rules: given a payment event, then its postings; entries balance per currency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from domain.ledger import (
    DEPOSIT_AUTHORIZATIONS,
    DISPUTE_FEES,
    DISPUTE_LOSSES,
    DISPUTED_FUNDS,
    PLATFORM_FEES,
    PLATFORM_FEES_REFUNDED,
    PROCESSOR_BALANCE,
    PROCESSOR_FEES,
    REFUNDS_PAYABLE,
    JournalEntry,
    Posting,
    UnbalancedEntryError,
    balances,
    deposit_authorized,
    derive,
    entry_for,
    entry_id_for,
    ledger_hash,
    owner_payable,
    owner_receivable,
    postings_for,
)
from domain.money import Money
from domain.payment import Payment

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ADMIN = uuid4()
QUOTE = {
    "currency": "EUR",
    "total": 11_500,
    "owner_payout": 9_000,
    "service_fee": 1_000,
    "commission": 1_000,
    "tax": 500,
}


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def captured() -> Payment:
    payment = Payment.open(uuid4(), uuid4(), uuid4(), QUOTE, eur(20_000), uuid4(), AT)
    payment.capture_charge("evt_cap", "pi_1", eur(11_500), eur(300), AT)
    return payment


def table(event: Any) -> set[tuple[str, str, int]]:
    return {(p.account, p.side, p.money.amount) for p in postings_for(event)}


def when(payment: Payment, command: Callable[[Payment], object]) -> list[Any]:
    payment.collect_events()
    command(payment)
    return list(payment.collect_events())


def test_a_capture_books_net_cash_the_fee_the_owner_share_and_platform_revenue() -> None:
    payment = captured()
    created, capture = payment.collect_events()
    assert postings_for(created) == []
    assert table(capture) == {
        (PROCESSOR_BALANCE, "debit", 11_200),
        (PROCESSOR_FEES, "debit", 300),
        (owner_payable(payment.owner_id), "credit", 9_000),
        (PLATFORM_FEES, "credit", 2_500),
    }


def test_a_refund_takes_back_owner_payable_and_platform_fees_through_refunds_payable() -> None:
    payment = captured()
    requested, succeeded = when(
        payment,
        lambda p: (
            p.request_refund("r", eur(11_500), "cancelled", ADMIN, "admin", AT),
            p.record_refund_succeeded("evt_r", "re_1", eur(11_500), AT, refund_id="r"),
        ),
    )
    assert table(requested) == {
        (owner_payable(payment.owner_id), "debit", 9_000),
        (PLATFORM_FEES_REFUNDED, "debit", 2_500),
        (REFUNDS_PAYABLE, "credit", 11_500),
    }
    assert table(succeeded) == {
        (REFUNDS_PAYABLE, "debit", 11_500),
        (PROCESSOR_BALANCE, "credit", 11_500),
    }


def test_a_failed_refund_reverses_its_request() -> None:
    payment = captured()
    payment.request_refund("r", eur(1_150), "x", ADMIN, "admin", AT)
    (failed,) = when(payment, lambda p: p.record_refund_failed("evt_f", "re_1", "no", AT, "r"))
    assert table(failed) == {
        (REFUNDS_PAYABLE, "debit", 1_150),
        (PLATFORM_FEES_REFUNDED, "credit", 250),
        (owner_payable(payment.owner_id), "credit", 900),
    }


def test_deposit_memo_accounts_balance_each_other_and_a_capture_goes_to_the_owner() -> None:
    payment = captured()
    authorized, capture, released = when(
        payment,
        lambda p: (
            p.authorize_deposit("evt_a", "pi_d", eur(20_000), AT),
            p.record_deposit_captured("evt_c", "pi_d", eur(5_000), eur(100), AT),
            p.record_deposit_released("evt_rel", AT),
        ),
    )
    memo = deposit_authorized(payment.booking_id)
    assert table(authorized) == {
        (memo, "debit", 20_000),
        (DEPOSIT_AUTHORIZATIONS, "credit", 20_000),
    }
    assert table(capture) == {
        (PROCESSOR_BALANCE, "debit", 4_900),
        (PROCESSOR_FEES, "debit", 100),
        (owner_payable(payment.owner_id), "credit", 5_000),
        (DEPOSIT_AUTHORIZATIONS, "debit", 5_000),
        (memo, "credit", 5_000),
    }
    assert table(released) == {(DEPOSIT_AUTHORIZATIONS, "debit", 15_000), (memo, "credit", 15_000)}


def test_a_payout_and_its_reversal_move_owner_payable_against_the_processor_balance() -> None:
    payment = captured()
    sent, reversed_ = when(
        payment,
        lambda p: (
            p.record_transfer_sent("evt_t", "tr_1", eur(9_000), AT),
            p.record_transfer_reversed("evt_rv", "tr_1", "trr_1", eur(2_000), AT),
        ),
    )
    payable = owner_payable(payment.owner_id)
    assert table(sent) == {(payable, "debit", 9_000), (PROCESSOR_BALANCE, "credit", 9_000)}
    assert table(reversed_) == {(PROCESSOR_BALANCE, "debit", 2_000), (payable, "credit", 2_000)}


def test_a_refund_after_the_payout_books_an_owner_receivable() -> None:
    payment = captured()
    payment.record_transfer_sent("evt_t", "tr_1", eur(9_000), AT)
    (requested,) = when(
        payment, lambda p: p.request_refund("r", eur(1_150), "dispute", ADMIN, "admin", AT)
    )
    assert (owner_receivable(payment.owner_id), "debit", 900) in table(requested)


def test_chargeback_withdrawal_fee_and_loss() -> None:
    payment = captured()
    withdrawn, lost = when(
        payment,
        lambda p: (
            p.record_chargeback_funds_withdrawn("evt_w", "dp", eur(11_500), eur(1_500), AT),
            p.close_chargeback("evt_l", "dp", "lost", eur(11_500), eur(1_500), AT),
        ),
    )[1:]
    assert table(withdrawn) == {
        (DISPUTED_FUNDS, "debit", 11_500),
        (DISPUTE_FEES, "debit", 1_500),
        (PROCESSOR_BALANCE, "credit", 13_000),
    }
    assert table(lost) == {(DISPUTE_LOSSES, "debit", 11_500), (DISPUTED_FUNDS, "credit", 11_500)}


def test_a_won_chargeback_returns_the_disputed_funds() -> None:
    payment = captured()
    payment.record_chargeback_funds_withdrawn("evt_w", "dp", eur(11_500), eur(1_500), AT)
    reinstated, won = when(
        payment, lambda p: p.close_chargeback("evt_won", "dp", "won", eur(11_500), eur(1), AT)
    )
    assert table(reinstated) == {
        (PROCESSOR_BALANCE, "debit", 11_500),
        (DISPUTED_FUNDS, "credit", 11_500),
    }
    assert postings_for(won) == []


def test_an_entry_is_derived_from_its_source_event_and_no_money_means_no_entry() -> None:
    payment = captured()
    created, capture = payment.collect_events()
    assert entry_for(created) is None
    entry = entry_for(capture)
    assert entry is not None
    assert entry.id == entry_id_for(payment.id, capture.originator_version)
    assert entry.source_type == "Payment.ChargeCaptured"
    assert entry.booking_id == payment.booking_id and entry.currency == "EUR"
    assert [type(e).__name__ for e in entry.collect_events()] == ["Recorded"]


def test_an_unbalanced_entry_cannot_be_recorded() -> None:
    postings = [
        Posting(PROCESSOR_BALANCE, "debit", eur(100)).as_dict(),
        Posting(PLATFORM_FEES, "credit", eur(99)).as_dict(),
    ]
    with pytest.raises(UnbalancedEntryError):
        JournalEntry(uuid4(), 1, "X", uuid4(), "EUR", postings, AT)


def test_an_entry_balances_per_currency_not_in_total() -> None:
    postings = [
        Posting(PROCESSOR_BALANCE, "debit", eur(100)).as_dict(),
        Posting(PLATFORM_FEES, "credit", Money(100, "USD")).as_dict(),
    ]
    with pytest.raises(UnbalancedEntryError):
        JournalEntry(uuid4(), 1, "X", uuid4(), "EUR", postings, AT)


def test_an_entry_with_no_postings_is_refused() -> None:
    with pytest.raises(UnbalancedEntryError):
        JournalEntry(uuid4(), 1, "X", uuid4(), "EUR", [], AT)


def test_the_ledger_hash_ignores_order_and_regenerated_entries_match_recorded_ones() -> None:
    payment = captured()
    payment.request_refund("r", eur(3_000), "x", ADMIN, "admin", AT)
    payment.record_transfer_sent("evt_t", "tr_1", eur(5_000), AT)
    events = payment.collect_events()
    recorded = [e for e in map(entry_for, events) if e is not None]
    derived = [e for e in map(derive, events) if e is not None]
    assert ledger_hash(recorded) == ledger_hash(reversed(derived))
    assert ledger_hash(recorded) != ledger_hash(recorded[:-1])
    assert sum(balances(recorded).values()) == 0
