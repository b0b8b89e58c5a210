"""Refund invariants: never negative, never more than was paid, never growing with time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.money import Money
from domain.policies import POLICIES, refund_amount, refund_schedule
from domain.pricing import PricingRules, Quote, quote

START = datetime(2026, 7, 10, 13, tzinfo=UTC)


@st.composite
def quotes(draw: st.DrawFn) -> Quote:
    rules = PricingRules(
        base=Money(draw(st.integers(0, 5_000_000)), "EUR"),
        unit="night",
        timezone="Europe/Berlin",
        weekly_discount_bp=draw(st.integers(0, 9_000)),
        cleaning_fee=draw(st.none() | st.integers(0, 100_000).map(lambda a: Money(a, "EUR"))),
        service_fee_bp=draw(st.integers(0, 10_000)),
        commission_bp=draw(st.integers(0, 10_000)),
        tax_bp=draw(st.integers(0, 10_000)),
    )
    nights = draw(st.integers(1, 30))
    return quote(rules, date(2026, 7, 10), date(2026, 7, 10) + timedelta(days=nights), 1, 1)


# Offsets in seconds relative to the start: booking lead time and two cancellation moments.
lead = st.integers(0, 60 * 86_400)
later = st.integers(0, 70 * 86_400)


def renter_refund(policy: str, q: Quote, booked: datetime, cancelled: datetime) -> Money:
    return refund_amount(
        policy, q, start_at=START, booked_at=booked, cancelled_at=cancelled, by_role="renter"
    )


@given(st.sampled_from(POLICIES), quotes(), lead, later, later)
def test_a_refund_is_between_nothing_and_what_was_paid_and_never_grows_later(
    policy: str, q: Quote, lead_s: int, after_a: int, after_b: int
) -> None:
    booked = START - timedelta(seconds=lead_s)
    early = booked + timedelta(seconds=min(after_a, after_b))
    late = booked + timedelta(seconds=max(after_a, after_b))
    first, second = renter_refund(policy, q, booked, early), renter_refund(policy, q, booked, late)
    assert first.currency == second.currency == q.currency
    assert 0 <= second.amount <= first.amount <= q.total


@given(st.sampled_from(POLICIES), quotes(), lead, later, st.sampled_from(("owner", "admin")))
def test_an_owner_or_admin_cancellation_returns_the_whole_total(
    policy: str, q: Quote, lead_s: int, after: int, role: str
) -> None:
    booked = START - timedelta(seconds=lead_s)
    money = refund_amount(
        policy,
        q,
        start_at=START,
        booked_at=booked,
        cancelled_at=booked + timedelta(seconds=after),
        by_role=role,
    )
    assert money == Money(q.total, q.currency)


@given(st.sampled_from(POLICIES), quotes(), lead, later)
def test_the_refund_matches_the_schedule_tier_in_force(
    policy: str, q: Quote, lead_s: int, after: int
) -> None:
    booked = START - timedelta(seconds=lead_s)
    cancelled = booked + timedelta(seconds=after)
    tiers = refund_schedule(policy, start_at=START, booked_at=booked)
    tier = next(t for t in tiers if t.until is None or cancelled < t.until)
    refund = renter_refund(policy, q, booked, cancelled).amount
    # The schedule's `until`s rise and its shares never rise
    untils = [t.until for t in tiers if t.until is not None]
    assert untils == sorted(untils) and tiers[-1].until is None
    assert [t.refund_bp for t in tiers] == sorted((t.refund_bp for t in tiers), reverse=True)
    if tier.refund_bp == 10_000:
        assert refund == q.total
    if cancelled >= START:
        assert refund == 0
    else:
        assert refund >= q.cleaning_fee
