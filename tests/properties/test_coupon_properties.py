"""Coupon invariants for any terms and any stay: the discount is never negative nor more than
the subtotal or its funder's part, the lines add up to the total, quotes are deterministic,
refunds never exceed what was paid, every charge's entry balances with the platform's
discount in expenses:promotions, and limits hold for any interleaving of redemptions and
give-backs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.coupon import Coupon
from domain.coupon_terms import CouponTerms, apply_to_quote, discount_for
from domain.errors import RuleViolation
from domain.ledger import PLATFORM_FEES, PROMOTIONS, check_balanced, owner_payable, postings_for
from domain.money import Money
from domain.payment import Payment
from domain.policies import refund_amount
from domain.pricing import PricingRules, Quote, quote

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
START = date(2026, 7, 1)

terms_st = st.builds(
    CouponTerms,
    kind=st.sampled_from(["percent", "fixed"]),
    funded_by=st.sampled_from(["platform", "owner"]),
    percent_bp=st.integers(1, 10_000),
    amount=st.integers(1, 500_000),
    currency=st.just("EUR"),
    owner_id=st.just(UUID(int=1)),
)
rules_st = st.builds(
    PricingRules,
    base=st.integers(0, 100_000).map(lambda a: Money(a, "EUR")),
    unit=st.just("night"),
    timezone=st.just("Europe/Lisbon"),
    weekly_discount_bp=st.integers(0, 5_000),
    cleaning_fee=st.one_of(st.none(), st.integers(0, 20_000).map(lambda a: Money(a, "EUR"))),
    service_fee_bp=st.integers(0, 3_000),
    commission_bp=st.integers(0, 3_000),
    tax_bp=st.integers(0, 2_500),
)


def priced(rules: PricingRules, nights: int, terms: CouponTerms) -> tuple[Quote, Quote, int]:
    plain = quote(rules, START, START + timedelta(days=nights), 1, 1)
    discount = discount_for(terms, plain)
    if discount == 0:
        return plain, plain, 0
    return plain, apply_to_quote(plain, "CODE", discount, terms.funded_by), discount


@given(rules_st, st.integers(1, 30), terms_st)
def test_the_discount_stays_within_the_subtotal_and_its_funders_part(
    rules: PricingRules, nights: int, terms: CouponTerms
) -> None:
    plain, q, discount = priced(rules, nights, terms)
    assert 0 <= discount <= plain.subtotal
    assert q.total == plain.total - discount
    assert sum(li.amount for li in q.line_items) == q.total
    assert 0 <= q.owner_payout <= q.total
    if terms.funded_by == "platform":
        assert q.owner_payout == plain.owner_payout  # paid as without the coupon
    else:
        assert q.owner_payout == plain.owner_payout - discount


@given(rules_st, st.integers(1, 30), terms_st)
def test_quotes_with_a_coupon_are_deterministic_and_survive_storage(
    rules: PricingRules, nights: int, terms: CouponTerms
) -> None:
    first, second = priced(rules, nights, terms), priced(rules, nights, terms)
    assert first == second
    assert Quote.from_dict(first[1].as_dict()) == first[1]


@given(rules_st, st.integers(1, 30), terms_st, st.integers(0, 60 * 24), st.booleans())
def test_a_refund_never_exceeds_what_was_paid(
    rules: PricingRules, nights: int, terms: CouponTerms, minutes: int, by_renter: bool
) -> None:
    _, q, _ = priced(rules, nights, terms)
    start_at = datetime(2026, 7, 1, 15, tzinfo=UTC)
    refund = refund_amount(
        "flexible",
        q,
        start_at=start_at,
        booked_at=AT,
        cancelled_at=start_at - timedelta(minutes=minutes),
        by_role="renter" if by_renter else "owner",
    )
    assert 0 <= refund.amount <= q.total


@given(rules_st, st.integers(1, 30), terms_st, st.integers(0, 3_000))
def test_a_charge_with_a_coupon_balances_and_books_who_paid(
    rules: PricingRules, nights: int, terms: CouponTerms, fee: int
) -> None:
    _, q, discount = priced(rules, nights, terms)
    if q.total == 0:
        return
    owner = uuid4()
    payment = Payment.open(uuid4(), owner, uuid4(), q.as_dict(), None, uuid4(), AT)
    fee = min(fee, q.total)
    payment.capture_charge("evt", "pi", Money(q.total, "EUR"), Money(fee, "EUR"), AT)
    booked: dict[str, int] = {}
    for event in payment.collect_events():
        postings = postings_for(event)
        if postings:
            check_balanced(postings)  # every entry, the capture's and the promotion's
        for p in postings:
            booked[p.account] = booked.get(p.account, 0) + p.signed()
    promotion = discount if terms.funded_by == "platform" else 0
    assert booked.get(PROMOTIONS, 0) == promotion
    assert -booked.get(owner_payable(owner), 0) == q.owner_payout
    assert -booked.get(PLATFORM_FEES, 0) == q.total - q.owner_payout + promotion


class CouponLimits(RuleBasedStateMachine):
    """Any interleaving of redemptions and give-backs by a few users keeps both limits."""

    def __init__(self) -> None:
        super().__init__()
        self.max, self.per_user = 3, 2
        terms = CouponTerms(
            kind="percent",
            percent_bp=1000,
            funded_by="platform",
            max_redemptions=self.max,
            per_user_limit=self.per_user,
        )
        self.coupon = Coupon.create("LIMITS", terms, uuid4(), "admin", AT)
        self.users = [uuid4() for _ in range(4)]
        self.bookings: list[UUID] = []

    @rule(user=st.integers(0, 3))
    def redeem(self, user: int) -> None:
        booking_id = uuid4()
        before = self.coupon.redeemed
        try:
            self.coupon.redeem(booking_id, self.users[user], 100, AT + timedelta(days=9), AT)
        except RuleViolation as e:
            assert e.code in ("coupon_exhausted", "coupon_user_limit")
            assert before == self.max or self.coupon.redeemed_by(self.users[user]) == 2
            return
        self.bookings.append(booking_id)

    @precondition(lambda self: self.bookings)
    @rule(data=st.data())
    def release(self, data: Any) -> None:
        booking_id = data.draw(st.sampled_from(self.bookings))
        again = self.coupon.release(booking_id, "cancelled", AT)
        assert again == (booking_id in self.bookings)
        self.bookings.remove(booking_id)
        assert self.coupon.release(booking_id, "cancelled", AT) is False  # once only

    @invariant()
    def limits_hold(self) -> None:
        assert self.coupon.redeemed == len(self.bookings) <= self.max
        for user in self.users:
            assert self.coupon.redeemed_by(user) <= self.per_user


TestCouponLimits = CouponLimits.TestCase
TestCouponLimits.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
