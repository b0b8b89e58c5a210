"""A coupon on an order, for any basket and any terms: the item bookings' allocated
discounts add up to the order's discount to the minor unit, no item's part is negative or
over its own subtotal or funder's part, no item's total or payout goes negative, out-of-scope
items are untouched, every item's lines and the order's lines add up to their totals, and
every item's charge posts a balanced ledger entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from hypothesis import assume, given
from hypothesis import strategies as st

from domain.coupon_terms import CouponTerms
from domain.errors import RuleViolation
from domain.ledger import check_balanced, postings_for
from domain.money import Money
from domain.order import order_quote, share_service_fee
from domain.order_coupon import allocate_capped, apply_to_basket, item_cap, with_coupon
from domain.payment import Payment
from domain.pricing import Quote, quote
from tests.properties.test_coupon_properties import rules_st, terms_st

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
START = date(2026, 7, 1)


@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=20),
    st.data(),
)
def test_capped_allocation_adds_up_and_respects_every_cap(
    pairs: list[tuple[int, int]], data: st.DataObject
) -> None:
    weights, caps = [w for w, _ in pairs], [c for _, c in pairs]
    total = data.draw(st.integers(0, sum(caps)))
    parts = allocate_capped(total, weights, caps)
    assert sum(parts) == total
    assert all(0 <= p <= c for p, c in zip(parts, caps, strict=True))


basket_st = st.lists(st.tuples(rules_st, st.integers(1, 14), st.booleans()), min_size=1, max_size=6)


@given(basket_st, terms_st, st.integers(0, 3_000))
def test_allocated_discounts_add_up_and_no_item_goes_negative(
    basket: list[tuple[object, int, bool]], terms: CouponTerms, fee_bp: int
) -> None:
    in_scope = [scope for _, _, scope in basket]
    assume(any(in_scope))
    plain = [
        quote(rules, START, START + timedelta(days=nights), 1, 1).as_dict()  # type: ignore[arg-type]
        for rules, nights, _ in basket
    ]
    shared = share_service_fee(plain, fee_bp)
    try:
        priced, discount = apply_to_basket(terms, "CODE", shared, in_scope)
    except RuleViolation as error:
        assert error.code in ("coupon_not_applicable", "coupon_minimum_not_met")
        return
    parts = [int(q.get("coupon_discount", 0)) for q in priced]
    assert sum(parts) == discount > 0
    for before, after, part, scope in zip(shared, priced, parts, in_scope, strict=True):
        q = Quote.from_dict(before)
        assert 0 <= part <= min(q.subtotal, item_cap(terms, q))
        assert scope or after == before  # an item out of scope is left alone
        assert after["total"] == before["total"] - part >= 0
        assert after["owner_payout"] >= 0
        assert sum(li["amount"] for li in after["line_items"]) == after["total"]
        if part and after["total"]:  # its own charge balances, promotion included
            payment = Payment.open(uuid4(), UUID(int=1), uuid4(), after, None, uuid4(), AT)
            total = Money(after["total"], "EUR")
            payment.capture_charge("evt", "pi", total, Money(0, "EUR"), AT)
            for event in payment.collect_events():
                postings = postings_for(event)
                if postings:
                    check_balanced(postings)
    whole = with_coupon(order_quote(priced), "CODE", discount, terms.funded_by)
    assert whole["total"] == sum(int(q["total"]) for q in priced)
    assert sum(li["amount"] for li in whole["line_items"]) == whole["total"]
