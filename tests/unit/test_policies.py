"""Cancellation policies: what a renter gets back, and when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import RuleViolation
from domain.money import Money
from domain.policies import refund_amount, refund_schedule, schedule_as_dicts, validate_policy
from domain.pricing import PricingRules, Quote, quote

START = datetime(2026, 7, 10, 13, tzinfo=UTC)
BOOKED = START - timedelta(days=30)


def a_quote() -> Quote:
    # subtotal 300.00, cleaning 50.00, service 42.00, tax 35.00: total 427.00
    rules = PricingRules(
        base=Money(10_000, "EUR"),
        unit="night",
        timezone="Europe/Berlin",
        cleaning_fee=Money(5_000, "EUR"),
        service_fee_bp=1_200,
        tax_bp=1_000,
        commission_bp=300,
    )
    q = quote(rules, date(2026, 7, 10), date(2026, 7, 13), 1, 2)
    assert (q.subtotal, q.cleaning_fee, q.service_fee, q.tax, q.total) == (
        30_000,
        5_000,
        4_200,
        3_500,
        42_700,
    )
    return q


def renter_refund(policy: str, before_start: timedelta, booked: datetime = BOOKED) -> int:
    money = refund_amount(
        policy,
        a_quote(),
        start_at=START,
        booked_at=booked,
        cancelled_at=START - before_start,
        by_role="renter",
    )
    assert money.currency == "EUR"
    return money.amount


FULL = 42_700
# 50 % of 300.00 + cleaning 50.00 + tax on 200.00 (20.00); no service fee
HALF = 15_000 + 5_000 + 2_000
# cleaning 50.00 + its tax 5.00
CLEANING_ONLY = 5_000 + 500


@pytest.mark.parametrize(
    ("policy", "before_start", "refund"),
    [
        ("flexible", timedelta(hours=24, seconds=1), FULL),
        ("flexible", timedelta(hours=24), HALF),
        ("flexible", timedelta(minutes=1), HALF),
        ("moderate", timedelta(days=5, seconds=1), FULL),
        ("moderate", timedelta(days=5), HALF),
        ("moderate", timedelta(hours=1), HALF),
        ("strict", timedelta(days=8), HALF),
        ("strict", timedelta(days=7), CLEANING_ONLY),
        ("strict", timedelta(hours=1), CLEANING_ONLY),
        ("non_refundable", timedelta(days=29), CLEANING_ONLY),
    ],
)
def test_renter_refund_follows_the_policy_tiers(
    policy: str, before_start: timedelta, refund: int
) -> None:
    assert renter_refund(policy, before_start) == refund


def test_strict_gives_a_full_refund_within_48_hours_of_booking_far_ahead() -> None:
    # Given a strict booking made 30 days ahead
    # When the renter cancels 47 hours after booking
    # Then everything comes back; at 48 hours only half the rental price does
    assert renter_refund("strict", START - BOOKED - timedelta(hours=47)) == FULL
    assert renter_refund("strict", START - BOOKED - timedelta(hours=48)) == HALF


def test_strict_has_no_grace_period_when_booked_less_than_14_days_ahead() -> None:
    booked = START - timedelta(days=13)
    assert renter_refund("strict", timedelta(days=13) - timedelta(hours=1), booked) == HALF


def test_cancelling_at_or_after_the_start_refunds_nothing() -> None:
    for policy in ("flexible", "moderate", "strict", "non_refundable"):
        assert renter_refund(policy, timedelta(0)) == 0
        assert renter_refund(policy, -timedelta(hours=5)) == 0


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_an_owner_or_admin_cancellation_refunds_the_whole_total(role: str) -> None:
    for policy in ("strict", "non_refundable"):
        money = refund_amount(
            policy,
            a_quote(),
            start_at=START,
            booked_at=BOOKED,
            cancelled_at=START + timedelta(hours=1),
            by_role=role,
        )
        assert money == Money(42_700, "EUR")


def test_an_unknown_policy_or_role_is_refused() -> None:
    with pytest.raises(RuleViolation) as e:
        validate_policy("lenient")
    assert e.value.code == "bad_cancellation_policy"
    with pytest.raises(RuleViolation) as e:
        refund_amount(
            "flexible",
            a_quote(),
            start_at=START,
            booked_at=BOOKED,
            cancelled_at=BOOKED,
            by_role="x",
        )
    assert e.value.code == "bad_role"


def test_a_cancellation_before_the_booking_was_made_is_refused() -> None:
    with pytest.raises(RuleViolation) as e:
        renter_refund("flexible", START - BOOKED + timedelta(seconds=1))
    assert e.value.code == "bad_cancellation_time"


def test_naive_instants_are_refused() -> None:
    with pytest.raises(RuleViolation) as e:
        refund_schedule("flexible", start_at=START.replace(tzinfo=None), booked_at=BOOKED)
    assert e.value.code == "naive_datetime"


def test_the_flexible_schedule_reads_as_json_for_the_api() -> None:
    tiers = refund_schedule("flexible", start_at=START, booked_at=BOOKED)
    assert schedule_as_dicts(tiers) == [
        {"until": "2026-07-09T13:00:00Z", "refund_pct": 100.0, "label": "Full refund"},
        {
            "until": "2026-07-10T13:00:00Z",
            "refund_pct": 50.0,
            "label": "50% refund of the rental price",
        },
        {"until": None, "refund_pct": 0.0, "label": "No refund once the booking has started"},
    ]


def test_tiers_that_ended_before_the_booking_are_left_out() -> None:
    # Given a moderate booking made two days before the start, the full-refund tier is gone
    tiers = refund_schedule("moderate", start_at=START, booked_at=START - timedelta(days=2))
    assert [t.refund_bp for t in tiers] == [5_000, 0]
