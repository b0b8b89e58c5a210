"""OrderCharge: an order's one charge, its capture split per item, its failure, its intent."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.errors import ConflictError, RuleViolation
from domain.money import Money
from domain.order_charge import CAPTURED, FAILED, OrderCharge, order_charge_id_for, split_charge
from domain.payment import Payment

AT = datetime(2026, 6, 1, tzinfo=UTC)


def charge_of(*amounts: int) -> OrderCharge:
    order_id = uuid4()
    items = [
        {
            "booking_id": str(uuid4()),
            "payment_id": str(uuid4()),
            "owner_id": str(uuid4()),
            "amount": a,
        }
        for a in amounts
    ]
    return OrderCharge(
        order_id=order_id,
        renter_id=uuid4(),
        currency="EUR",
        items=items,
        idempotency_key=f"rentbook:{order_id}:charge",
        by=uuid4(),
        at=AT,
    )


def test_the_charge_id_is_derived_from_the_order() -> None:
    charge = charge_of(100, 200)
    assert charge.id == order_charge_id_for(charge.order_id)
    assert charge.total == 300 and charge.status == "requested"


def test_a_whole_capture_gives_each_item_its_total_and_the_fee_by_largest_remainder() -> None:
    charge = charge_of(10_000, 20_000, 3_333)
    shares = charge.capture("evt_1", "pi_1", 33_333, 1_000, AT)
    assert shares is not None
    assert [s["amount"] for s in shares] == [10_000, 20_000, 3_333]
    # 1,000 x (0.3, 0.6, 0.1): floors 300, 600, 99 and the one left goes to the largest rest.
    assert [s["fee"] for s in shares] == [300, 600, 100]
    assert charge.status == CAPTURED and charge.captured == 33_333 and charge.fee == 1_000


def test_a_partial_capture_splits_pro_rata_and_sums_exactly() -> None:
    assert split_charge(100, 7, [1, 1, 1]) == [(34, 3), (33, 2), (33, 2)]


def test_a_second_report_of_the_capture_changes_nothing() -> None:
    charge = charge_of(500, 500)
    assert charge.capture("evt_1", "pi_1", 1_000, 30, AT) is not None
    assert charge.capture("evt_2", "pi_1", 1_000, 30, AT) is None
    assert charge.fail("evt_3", "late decline", AT) is False and charge.status == CAPTURED


def test_a_capture_over_the_total_or_of_another_intent_is_refused() -> None:
    charge = charge_of(500)
    charge.record_intent("pi_1", AT)
    with pytest.raises(RuleViolation):
        charge.capture("evt_1", "pi_1", 501, 0, AT)
    with pytest.raises(ConflictError):
        charge.capture("evt_1", "pi_other", 500, 0, AT)
    with pytest.raises(ConflictError):
        charge.record_intent("pi_2", AT)
    assert charge.record_intent("pi_1", AT) is False


def test_a_decline_then_another_card_still_captures() -> None:
    charge = charge_of(500)
    assert charge.fail("evt_1", "card_declined", AT) and charge.status == FAILED
    assert charge.fail("evt_1", "card_declined", AT) is False  # the same event again
    assert charge.capture("evt_2", "pi_1", 500, 20, AT) is not None


def test_a_dispute_split_is_fixed_when_first_seen() -> None:
    charge = charge_of(100, 300)
    assert charge.dispute_split("dp_1", [50, 300]) == [50, 300]
    assert charge.dispute_split("dp_1", [0, 0]) == [50, 300]


def test_an_item_payment_joins_one_order_charge_only() -> None:
    quote = {"currency": "EUR", "total": 1_000, "owner_payout": 800}
    quote |= {"service_fee": 200, "commission": 0, "tax": 0}
    payment = Payment.open(uuid4(), uuid4(), uuid4(), quote, Money(500, "EUR"), uuid4(), AT)
    order_id = uuid4()
    assert payment.join_order_charge(order_charge_id_for(order_id), order_id, AT)
    assert payment.join_order_charge(order_charge_id_for(order_id), order_id, AT) is False
    assert payment.order_charge_id == order_charge_id_for(order_id)
    with pytest.raises(ConflictError):
        payment.join_order_charge(order_charge_id_for(uuid4()), uuid4(), AT)
    alone = Payment.open(uuid4(), uuid4(), uuid4(), quote, None, uuid4(), AT)
    alone.request_charge("rentbook:b:charge", uuid4(), AT)
    with pytest.raises(ConflictError):  # a booking paying its own charge is not an order's
        alone.join_order_charge(order_charge_id_for(order_id), order_id, AT)
