"""The order's pure rules: one service fee allocated across the items to the minor unit, the
order quote that sums its items, and the status derived from the items'."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain import booking as b
from domain.money import Money, round_half_up
from domain.order import allocate, order_quote, order_status, share_service_fee
from domain.pricing import PricingRules, quote

STATUSES = [
    b.PENDING_OWNER_APPROVAL,
    b.PENDING_PAYMENT,
    b.CONFIRMED,
    b.IN_PROGRESS,
    b.AWAITING_RETURN_INSPECTION,
    b.COMPLETED,
    b.SETTLED,
    b.DISPUTED,
    b.CANCELLED,
    b.REFUNDED,
]


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**7), min_size=1, max_size=20))
def test_allocation_sums_to_the_total_and_follows_the_weights(
    total: int, weights: list[int]
) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total and all(p >= 0 for p in parts)
    whole = sum(weights)
    if whole:
        assert all(abs(p * whole - total * w) < whole for p, w in zip(parts, weights, strict=True))


def item_quote(base: int, nights: int, quantity: int, cleaning: int) -> dict[str, object]:
    rules = PricingRules(
        unit="night",
        timezone="UTC",
        base=Money(base, "EUR"),
        cleaning_fee=Money(cleaning, "EUR") if cleaning else None,
        service_fee_bp=1200,
        commission_bp=300,
        tax_bp=0,
    )
    start = date(2026, 7, 1)
    return quote(rules, start, start + timedelta(days=nights), quantity, 1).as_dict()


quotes_st = st.lists(
    st.builds(
        item_quote,
        st.integers(100, 50_000),
        st.integers(1, 10),
        st.integers(1, 3),
        st.integers(0, 5_000),
    ),
    min_size=1,
    max_size=6,
)


@given(quotes_st)
def test_a_basket_pays_one_service_fee_and_its_items_sum_to_the_order_total(
    quotes: list[dict[str, object]],
) -> None:
    shared = share_service_fee(quotes, 1200)
    whole = order_quote(shared)
    bases = sum(int(q["subtotal"]) + int(q["cleaning_fee"]) for q in quotes)  # type: ignore[call-overload]
    assert whole["service_fee"] == round_half_up(bases * 1200, 10_000)
    assert whole["total"] == bases + whole["service_fee"]
    assert sum(q["total"] for q in shared) == whole["total"]
    for q in shared:
        assert sum(li["amount"] for li in q["line_items"]) == q["total"]
        assert 0 <= q["owner_payout"] <= q["total"]  # what the item's payment splits


@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=6))
def test_the_order_status_follows_its_least_advanced_live_item(statuses: list[str]) -> None:
    status = order_status(statuses)
    live = [s for s in statuses if s not in (b.CANCELLED, b.REFUNDED)]
    if not live:
        assert status in (b.CANCELLED, b.REFUNDED)
    else:
        assert status in live
        assert order_status([*statuses, b.CANCELLED]) == status


def test_every_item_paid_means_confirmed_and_everything_refunded_means_refunded() -> None:
    assert order_status([b.CONFIRMED, b.CONFIRMED]) == b.CONFIRMED
    assert order_status([b.CONFIRMED, b.PENDING_PAYMENT]) == b.PENDING_PAYMENT
    assert order_status([b.REFUNDED, b.REFUNDED]) == b.REFUNDED
    assert order_status([b.REFUNDED, b.CANCELLED]) == b.CANCELLED
