"""An order's one charge, for any basket, any fee, whole or partial capture, any refunds and
chargebacks: the item shares sum to the charge and the fee shares to the fee, an item never
refunds more than its share (so the one charge is never over-refunded), every journal entry
balances, and the ledger regenerated from the payment events equals the one recorded (with
duplicate deliveries)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.ledger import balances, check_balanced, derive, entry_for, ledger_hash, postings_for
from domain.money import Money
from domain.order import allocate
from domain.order_charge import OrderCharge, split_charge
from domain.payment import Payment, RefundExceedsCapturedError

AT = datetime(2026, 6, 1, tzinfo=UTC)
OWNERS = [uuid4() for _ in range(3)]

# (item total, owner payout basis points, owner index)
item_st = st.tuples(st.integers(1, 200_000), st.integers(0, 10_000), st.integers(0, 2))
basket_st = st.lists(item_st, min_size=1, max_size=8)


@given(st.lists(st.integers(0, 100_000), min_size=1, max_size=10), st.data())
def test_shares_sum_to_the_charge_and_fee_shares_to_the_fee(
    totals: list[int], data: st.DataObject
) -> None:
    whole = sum(totals)
    amount = data.draw(st.integers(0, whole))
    fee = data.draw(st.integers(0, max(amount, 1) * 2))
    split = split_charge(amount, fee, totals)
    assert sum(part for part, _ in split) == amount
    assert sum(cost for _, cost in split) == fee
    assert all(part >= 0 and cost >= 0 for part, cost in split)
    if amount == whole:
        assert [part for part, _ in split] == totals  # a whole capture: each item its total
    assert split == split_charge(amount, fee, totals)  # deterministic


def _basket(items: list[tuple[int, int, int]]) -> tuple[OrderCharge, list[Payment]]:
    payments = []
    for total, payout_bp, owner in items:
        payout = total * payout_bp // 10_000
        quote = {
            "currency": "EUR",
            "total": total,
            "owner_payout": payout,
            "service_fee": total - payout,
            "commission": 0,
            "tax": 0,
        }
        payments.append(Payment.open(uuid4(), OWNERS[owner], uuid4(), quote, None, uuid4(), AT))
    charge = OrderCharge(
        order_id=uuid4(),
        renter_id=uuid4(),
        currency="EUR",
        items=[
            {
                "booking_id": str(p.booking_id),
                "payment_id": str(p.id),
                "owner_id": str(p.owner_id),
                "amount": p.total,
            }
            for p in payments
        ],
        idempotency_key="rentbook:order:charge",
        by=uuid4(),
        at=AT,
    )
    return charge, payments


@given(basket_st, st.data())
def test_the_one_charge_splits_into_balanced_entries_and_never_over_refunds(
    items: list[tuple[int, int, int]], data: st.DataObject
) -> None:
    charge, payments = _basket(items)
    eur = lambda amount: Money(amount, "EUR")  # noqa: E731
    amount = data.draw(st.integers(1, charge.total))
    fee = data.draw(st.integers(0, amount // 10 + 1))
    shares = charge.capture("evt_cap", "pi_1", amount, fee, AT)
    assert shares is not None and charge.capture("evt_cap", "pi_1", amount, fee, AT) is None
    assert sum(s["amount"] for s in shares) == amount and sum(s["fee"] for s in shares) == fee
    for payment, share in zip(payments, shares, strict=True):
        if share["amount"]:
            payment.capture_charge("evt_cap", "pi_1", eur(share["amount"]), eur(share["fee"]), AT)
    # Refunds per item, some over what the item has: refused, never taken from another item.
    for n, payment in enumerate(payments):
        if payment.charge["status"] != "captured":
            continue
        for k in range(data.draw(st.integers(0, 3))):
            want = data.draw(st.integers(1, payment.total + 10))
            try:
                payment.request_refund(f"r{k}", eur(want), "cancelled", uuid4(), "renter", AT)
            except RefundExceedsCapturedError:
                assert want > payment.refundable
                continue
            payment.record_refund_succeeded(
                f"evt_r{n}_{k}", f"re_{n}_{k}", eur(want), AT, refund_id=f"r{k}"
            )
    refunded = sum(p.refunded for p in payments)
    assert refunded <= amount  # the one charge is never over-refunded
    if data.draw(st.booleans()):  # a chargeback on the one charge, split like the app does
        weights = charge.dispute_split("dp_1", [p.refundable for p in payments])
        disputed = sum(weights)
        parts = allocate(disputed, weights)
        fees = allocate(1_500, parts)
        for payment, part, cost in zip(payments, parts, fees, strict=True):
            if part:
                payment.record_chargeback_funds_withdrawn(
                    "evt_dw", "dp_1", eur(part), eur(cost), AT
                )
        assert charge.dispute_split("dp_1", [0] * len(payments)) == weights  # fixed once

    events: list[Any] = [e for p in payments for e in p.collect_events()]
    recorded: dict[Any, Any] = {}
    for event in events + events:  # the ledger process sees every event twice
        postings = postings_for(event)
        if postings:
            check_balanced(postings)
        entry = entry_for(event)
        if entry is not None:
            recorded.setdefault(entry.id, entry)
    regenerated = [e for e in map(derive, events) if e is not None]
    assert ledger_hash(regenerated) == ledger_hash(recorded.values())
    assert sum(balances(regenerated).values()) == 0
    processor = sum(
        v
        for (account, _), v in balances(regenerated).items()
        if account.endswith("processor_balance")
    )
    withdrawn = sum(c["withdrawn"] for p in payments for c in p.chargebacks.values())
    assert processor == amount - fee - refunded - withdrawn - (1_500 if withdrawn else 0)
