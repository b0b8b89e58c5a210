"""Payment rules: given events, when a (processor) command, then events or an error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import ConflictError, RuleViolation
from domain.money import Money
from domain.payment import Payment, RefundExceedsCapturedError, owner_split, payment_id_for

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


def opened(deposit: int | None = 20_000) -> Payment:
    payment = Payment.open(
        booking_id=uuid4(),
        owner_id=uuid4(),
        renter_id=uuid4(),
        quote=QUOTE,
        deposit=eur(deposit) if deposit else None,
        by=uuid4(),
        at=AT,
    )
    payment.collect_events()
    return payment


def captured(**kw: Any) -> Payment:
    payment = opened(**kw)
    payment.request_charge("rentbook:b:charge", uuid4(), AT)
    payment.capture_charge("evt_capture", "pi_1", eur(11_500), eur(300), AT)
    payment.collect_events()
    return payment


def names(payment: Payment) -> list[str]:
    return [type(e).__name__ for e in payment.collect_events()]


# -- creation and ids -------------------------------------------------------------------


def test_a_payment_is_one_per_booking_with_an_id_derived_from_it() -> None:
    booking_id = uuid4()
    payment = Payment.open(booking_id, uuid4(), uuid4(), QUOTE, None, uuid4(), AT)
    assert payment.id == payment_id_for(booking_id)
    assert payment.currency == "EUR" and payment.deposit is None


def test_a_deposit_in_another_currency_is_refused() -> None:
    with pytest.raises(RuleViolation) as exc:
        Payment.open(uuid4(), uuid4(), uuid4(), QUOTE, Money(1, "USD"), uuid4(), AT)
    assert exc.value.code == "bad_deposit"


def test_processor_ids_are_recorded_once_and_a_different_one_conflicts() -> None:
    payment = opened()
    assert payment.request_charge("k", ADMIN, AT) is True
    assert payment.request_charge("k", ADMIN, AT) is False
    assert payment.record_charge_intent("pi_1", AT) is True
    assert payment.record_charge_intent("pi_1", AT) is False
    assert payment.record_deposit_intent("pi_d", AT) is True
    assert payment.record_deposit_intent("pi_d", AT) is False
    assert payment.record_transfer_id("tr_1", AT) is True
    assert payment.record_transfer_id("tr_1", AT) is False
    assert names(payment) == [
        "ChargeRequested",
        "ChargeIntentRecorded",
        "DepositIntentRecorded",
        "TransferIdRecorded",
    ]
    with pytest.raises(ConflictError):
        payment.record_charge_intent("pi_2", AT)
    with pytest.raises(ConflictError):
        payment.request_charge("other", ADMIN, AT)


# -- charge ---------------------------------------------------------------------------


def test_capturing_the_charge_splits_it_into_owner_and_platform_shares() -> None:
    payment = opened()
    assert payment.authorize_charge("evt_auth", "pi_1", eur(11_500), AT) is True
    assert payment.capture_charge("evt_cap", "pi_1", eur(11_500), eur(300), AT) is True
    assert names(payment) == ["ChargeAuthorized", "ChargeCaptured"]
    assert payment.charge["owner_share"] == 9_000
    assert payment.charge["platform_share"] == 2_500
    assert payment.charge["fee"] == 300
    assert payment.owner_balance == 9_000


def test_a_partial_capture_splits_pro_rata() -> None:
    payment = opened()
    payment.capture_charge("evt_cap", "pi_1", eur(5_750), eur(0), AT)
    assert payment.charge["owner_share"] == 4_500
    assert payment.charge["platform_share"] == 1_250


def test_a_processor_event_handled_twice_is_a_no_op() -> None:
    payment = captured()
    assert payment.has_processed("evt_capture")
    assert payment.capture_charge("evt_capture", "pi_1", eur(11_500), eur(300), AT) is False
    assert payment.capture_charge("evt_other", "pi_1", eur(11_500), eur(300), AT) is False
    assert names(payment) == []


def test_a_capture_for_another_intent_conflicts() -> None:
    payment = opened()
    payment.record_charge_intent("pi_1", AT)
    with pytest.raises(ConflictError):
        payment.capture_charge("evt", "pi_2", eur(11_500), eur(0), AT)


def test_a_capture_above_the_quote_total_is_refused() -> None:
    with pytest.raises(RuleViolation) as exc:
        opened().capture_charge("evt", "pi_1", eur(11_501), eur(0), AT)
    assert exc.value.code == "capture_exceeds_total"


def test_a_failure_after_the_capture_is_ignored_and_a_success_after_a_failure_captures() -> None:
    payment = opened()
    assert payment.fail_charge("evt_fail", "card_declined", AT) is True
    assert payment.charge["status"] == "failed"
    payment.capture_charge("evt_cap", "pi_1", eur(11_500), eur(300), AT)
    assert payment.fail_charge("evt_fail_2", "late", AT) is False
    assert payment.charge["status"] == "captured"


# -- refunds --------------------------------------------------------------------------


def test_a_refund_is_requested_then_succeeds_with_its_processor_id() -> None:
    payment = captured()
    assert payment.request_refund("cancel", eur(5_000), "renter cancelled", ADMIN, "admin", AT)
    assert payment.record_refund_id("cancel", "re_1", AT) is True
    assert payment.record_refund_id("cancel", "re_1", AT) is False
    assert payment.record_refund_succeeded("evt_r", "re_1", eur(5_000), AT) is True
    assert payment.record_refund_succeeded("evt_r", "re_1", eur(5_000), AT) is False
    assert names(payment) == ["RefundRequested", "RefundIdRecorded", "RefundSucceeded"]
    assert payment.refunds["cancel"]["status"] == "succeeded"
    assert payment.refundable == 6_500


def test_a_refund_is_split_pro_rata_and_a_full_refund_takes_back_each_share_exactly() -> None:
    payment = captured()
    payment.request_refund("a", eur(3_333), "partial", ADMIN, "admin", AT)
    payment.request_refund("b", eur(8_167), "the rest", ADMIN, "admin", AT)
    owner = sum(r["owner_portion"] for r in payment.refunds.values())
    platform = sum(r["platform_portion"] for r in payment.refunds.values())
    assert (owner, platform) == (9_000, 2_500)
    assert payment.owner_balance == 0


def test_an_explicit_owner_portion_must_fit_both_shares() -> None:
    payment = captured()
    payment.request_refund(
        "a", eur(3_000), "cleaning", ADMIN, "admin", AT, owner_portion=eur(3_000)
    )
    assert payment.refunds["a"]["platform_portion"] == 0
    with pytest.raises(RuleViolation) as exc:
        payment.request_refund("b", eur(3_000), "x", ADMIN, "admin", AT, owner_portion=eur(6_001))
    assert exc.value.code == "bad_refund_split"


def test_refunds_never_exceed_what_was_captured_minus_refunded() -> None:
    payment = captured()
    payment.request_refund("a", eur(10_000), "most", ADMIN, "admin", AT)
    with pytest.raises(RefundExceedsCapturedError):
        payment.request_refund("b", eur(1_501), "too much", ADMIN, "admin", AT)
    assert payment.request_refund("b", eur(1_500), "the rest", ADMIN, "admin", AT)


def test_a_refund_before_the_capture_is_refused_and_a_reused_refund_id_conflicts() -> None:
    with pytest.raises(ConflictError) as exc:
        opened().request_refund("a", eur(1), "x", ADMIN, "admin", AT)
    assert exc.value.code == "not_captured"
    payment = captured()
    payment.request_refund("a", eur(100), "x", ADMIN, "admin", AT)
    assert payment.request_refund("a", eur(100), "x", ADMIN, "admin", AT) is False
    with pytest.raises(ConflictError):
        payment.request_refund("a", eur(200), "x", ADMIN, "admin", AT)


def test_a_failed_refund_gives_its_amount_back_to_the_refundable() -> None:
    payment = captured()
    payment.request_refund("a", eur(5_000), "x", ADMIN, "admin", AT)
    payment.record_refund_id("a", "re_1", AT)
    assert payment.record_refund_failed("evt_f", "re_1", "expired_card", AT) is True
    assert payment.refundable == 11_500 and payment.owner_balance == 9_000
    assert payment.record_refund_succeeded("evt_s", "re_1", eur(5_000), AT) is False


def test_a_refund_reported_before_the_capture_is_parked_then_applied_with_it() -> None:
    payment = opened()
    assert payment.record_refund_succeeded("evt_r", "re_9", eur(2_000), AT) is True
    assert names(payment) == ["RefundParked"]
    assert payment.record_refund_succeeded("evt_r2", "re_9", eur(2_000), AT) is False
    payment.capture_charge("evt_cap", "pi_1", eur(11_500), eur(300), AT)
    assert names(payment) == ["ChargeCaptured", "RefundRequested", "RefundSucceeded"]
    assert payment.parked_refunds == {}
    assert payment.refunds["processor:re_9"]["status"] == "succeeded"
    assert payment.refundable == 9_500


def test_a_refund_failure_reported_before_its_success_wins() -> None:
    payment = captured()
    assert payment.record_refund_failed("evt_f", "re_9", "failed", AT) is True
    assert payment.record_refund_succeeded("evt_s", "re_9", eur(2_000), AT) is False
    assert payment.refundable == 11_500


def test_a_refund_failing_after_it_succeeded_returns_the_money() -> None:
    payment = captured()
    payment.record_refund_succeeded("evt_s", "re_9", eur(2_000), AT)
    payment.record_refund_failed("evt_f", "re_9", "bank rejected", AT)
    events = payment.collect_events()
    assert [type(e).__name__ for e in events][-1] == "RefundFailed"
    assert events[-1].stage == "succeeded"  # type: ignore[attr-defined]
    assert payment.refundable == 11_500 and payment.owner_balance == 9_000


# -- deposit --------------------------------------------------------------------------


def test_a_deposit_is_held_captured_in_parts_and_the_rest_released() -> None:
    payment = captured()
    assert payment.authorize_deposit("evt_a", "pi_d", eur(20_000), AT)
    assert payment.record_deposit_captured("evt_c1", "pi_d", eur(5_000), eur(100), AT)
    assert payment.record_deposit_captured("evt_c2", "pi_d", eur(3_000), eur(50), AT)
    assert payment.deposit_capturable == 12_000
    assert payment.record_deposit_released("evt_rel", AT)
    assert payment.record_deposit_released("evt_rel2", AT) is False
    events = payment.collect_events()
    assert events[-1].amount == 12_000  # type: ignore[attr-defined]
    assert payment.owner_balance == 17_000


def test_deposit_captures_never_exceed_the_hold() -> None:
    payment = captured()
    payment.authorize_deposit("evt_a", "pi_d", eur(20_000), AT)
    payment.record_deposit_captured("evt_c1", "pi_d", eur(15_000), eur(0), AT)
    with pytest.raises(RuleViolation) as exc:
        payment.record_deposit_captured("evt_c2", "pi_d", eur(5_001), eur(0), AT)
    assert exc.value.code == "deposit_capture_exceeds_hold"


def test_a_deposit_capture_before_its_authorisation_implies_the_hold() -> None:
    payment = captured()
    payment.record_deposit_captured("evt_c", "pi_d", eur(5_000), eur(0), AT)
    assert names(payment) == ["DepositAuthorized", "DepositCaptured"]
    assert payment.authorize_deposit("evt_a", "pi_d", eur(20_000), AT) is False
    assert payment.deposit_capturable == 15_000


def test_an_expired_hold_records_the_rest_as_expired() -> None:
    payment = captured()
    payment.authorize_deposit("evt_a", "pi_d", eur(20_000), AT)
    assert payment.record_deposit_released("evt_x", AT, expired=True)
    assert names(payment)[-1] == "DepositExpired"
    assert payment.deposit_hold["status"] == "expired"


# -- transfers ------------------------------------------------------------------------


def test_a_transfer_is_scheduled_once_sent_and_reversed() -> None:
    payment = captured()
    assert payment.schedule_transfer(AT, ADMIN, AT)
    assert payment.schedule_transfer(AT, ADMIN, AT) is False
    assert payment.record_transfer_sent("evt_t", "tr_1", eur(9_000), AT)
    assert payment.record_transfer_sent("evt_t2", "tr_1", eur(9_000), AT) is False
    assert payment.owner_balance == 0
    assert payment.record_transfer_reversed("evt_rv", "tr_1", "trr_1", eur(4_000), AT)
    assert payment.record_transfer_reversed("evt_rv2", "tr_1", "trr_1", eur(4_000), AT) is False
    assert payment.owner_balance == 4_000
    assert names(payment) == ["TransferScheduled", "TransferSent", "TransferReversed"]


def test_a_reversal_before_its_transfer_is_parked_then_applied() -> None:
    payment = captured()
    payment.record_transfer_reversed("evt_rv", "tr_1", "trr_1", eur(4_000), AT)
    payment.record_transfer_sent("evt_t", "tr_1", eur(9_000), AT)
    assert names(payment) == ["TransferReversalParked", "TransferSent", "TransferReversed"]
    assert payment.owner_balance == 4_000


def test_a_refund_after_the_payout_makes_the_owner_owe_the_platform() -> None:
    payment = captured()
    payment.record_transfer_sent("evt_t", "tr_1", eur(9_000), AT)
    payment.request_refund("dispute", eur(11_500), "dispute resolved", ADMIN, "admin", AT)
    event = payment.collect_events()[-1]
    assert (event.owner_payable, event.owner_receivable) == (0, 9_000)  # type: ignore[attr-defined]
    assert payment.owner_balance == -9_000


def test_owner_split_separates_payable_and_receivable_changes() -> None:
    assert owner_split(100, -50) == (-100, 50)
    assert owner_split(-50, 100) == (100, -50)
    assert owner_split(10, 30) == (20, 0)


# -- chargebacks ----------------------------------------------------------------------


def test_a_chargeback_withdraws_funds_and_a_win_reinstates_them() -> None:
    payment = captured()
    assert payment.open_chargeback("evt_o", "dp_1", eur(11_500), eur(1_500), "fraud", AT)
    assert payment.record_chargeback_funds_withdrawn("evt_w", "dp_1", eur(11_500), eur(1_500), AT)
    assert payment.refundable == 0
    assert payment.close_chargeback("evt_won", "dp_1", "won", eur(11_500), eur(1_500), AT)
    assert names(payment) == [
        "ChargebackOpened",
        "ChargebackFundsWithdrawn",
        "ChargebackFundsReinstated",
        "ChargebackWon",
    ]
    assert (
        payment.record_chargeback_funds_reinstated("evt_re", "dp_1", eur(11_500), eur(1_500), AT)
        is False
    )
    assert payment.refundable == 11_500


def test_a_lost_chargeback_before_its_withdrawal_implies_it() -> None:
    payment = captured()
    payment.close_chargeback("evt_lost", "dp_1", "lost", eur(11_500), eur(1_500), AT)
    assert names(payment) == ["ChargebackOpened", "ChargebackFundsWithdrawn", "ChargebackLost"]
    assert (
        payment.record_chargeback_funds_withdrawn("evt_w", "dp_1", eur(11_500), eur(1_500), AT)
        is False
    )
    assert payment.refundable == 0


def test_a_withdrawal_reported_after_the_win_is_reinstated_at_once() -> None:
    payment = captured()
    payment.close_chargeback("evt_won", "dp_1", "won", eur(11_500), eur(1_500), AT)
    payment.record_chargeback_funds_withdrawn("evt_w", "dp_1", eur(11_500), eur(1_500), AT)
    assert names(payment)[-2:] == ["ChargebackFundsWithdrawn", "ChargebackFundsReinstated"]
    assert payment.held_by_chargebacks == 0


def test_a_chargeback_before_the_capture_is_recorded() -> None:
    payment = opened()
    assert payment.record_chargeback_funds_withdrawn("evt_w", "dp_1", eur(11_500), eur(0), AT)
    assert names(payment) == ["ChargebackOpened", "ChargebackFundsWithdrawn"]


def test_a_chargeback_outcome_is_won_or_lost() -> None:
    with pytest.raises(RuleViolation):
        captured().close_chargeback("e", "dp_1", "draw", eur(1), eur(0), AT)


def test_amounts_in_another_currency_are_refused() -> None:
    with pytest.raises(RuleViolation) as exc:
        opened().capture_charge("evt", "pi_1", Money(11_500, "USD"), eur(0), AT)
    assert exc.value.code == "currency_mismatch"


def test_a_release_reported_before_the_hold_releases_whatever_is_not_captured() -> None:
    payment = captured()
    assert payment.record_deposit_released("evt_rel", AT)
    assert payment.record_deposit_captured("evt_c", "pi_d", eur(5_000), eur(0), AT)
    assert names(payment) == [
        "DepositReleased",
        "DepositAuthorized",
        "DepositReleased",
        "DepositCaptured",
    ]
    assert payment.deposit_hold["released"] == 15_000
    assert payment.authorize_deposit("evt_a", "pi_d", eur(20_000), AT) is False
    assert payment.deposit_capturable == 0
