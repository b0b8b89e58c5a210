"""The Coupon aggregate and its terms: codes, discounts and who funds them, refusals,
redemptions given back, deactivation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.coupon import Coupon, coupon_id_for, normalize_code
from domain.coupon_terms import CouponTerms, Purchase, apply_to_quote, check_scope, discount_for
from domain.errors import ConflictError, PermissionDenied, RuleViolation
from domain.money import Money
from domain.policies import refund_amount
from domain.pricing import PricingRules, Quote, quote

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)
OWNER = uuid4()
RULES = PricingRules(
    base=Money(10_000, "EUR"),
    unit="night",
    timezone="Europe/Lisbon",
    service_fee_bp=1200,
    commission_bp=300,
)


def two_nights() -> Quote:
    return quote(RULES, date(2026, 7, 1), date(2026, 7, 3), 1, 1)  # subtotal 20,000


def terms(**overrides: Any) -> CouponTerms:
    return CouponTerms(
        **{"kind": "percent", "percent_bp": 1000, "funded_by": "platform"} | overrides
    )


def test_codes_compare_case_insensitively_and_name_the_stream() -> None:
    assert normalize_code("  summer-25 ") == "SUMMER-25"
    assert coupon_id_for("summer-25") == coupon_id_for("SUMMER-25")
    for bad in ("ab", "-LEADING", "has space", "x" * 41, "émoji"):
        with pytest.raises(RuleViolation):
            normalize_code(bad)


def test_percent_and_fixed_discounts_come_off_the_subtotal_within_the_funders_part() -> None:
    q = two_nights()
    assert (q.subtotal, q.service_fee, q.commission) == (20_000, 2_400, 600)
    assert discount_for(terms(percent_bp=1000), q) == 2_000
    assert discount_for(terms(percent_bp=2500), q) == 3_000  # the platform's take caps it
    fixed = terms(kind="fixed", amount=1_000_000, currency="EUR")
    assert discount_for(fixed, q) == 3_000  # the platform's take: 2,400 + 600
    owners = CouponTerms(
        kind="fixed", amount=1_000_000, currency="EUR", funded_by="owner", owner_id=OWNER
    )
    assert discount_for(owners, q) == 19_400  # the whole payout, no more
    assert (
        discount_for(CouponTerms(**{**owners.__dict__, "kind": "percent", "percent_bp": 2500}), q)
        == 5_000
    )


def test_an_applied_coupon_is_a_line_and_lowers_the_total_and_its_funders_share() -> None:
    q = two_nights()
    platform = apply_to_quote(q, "TEN", 2_000, "platform")
    assert (platform.total, platform.owner_payout) == (q.total - 2_000, q.owner_payout)
    owner = apply_to_quote(q, "TEN", 2_000, "owner")
    assert (owner.total, owner.owner_payout) == (q.total - 2_000, q.owner_payout - 2_000)
    assert owner.line_items[-1].code == "coupon" and owner.line_items[-1].amount == -2_000
    assert Quote.from_dict(owner.as_dict()) == owner
    legacy = {k: v for k, v in q.as_dict().items() if not k.startswith("coupon_")}
    assert Quote.from_dict(legacy) == q  # quotes stored before coupons still load


def test_a_renter_refund_is_scaled_to_what_was_paid() -> None:
    q = apply_to_quote(two_nights(), "TEN", 2_000, "platform")
    start = datetime(2026, 7, 1, 15, tzinfo=UTC)
    full = refund_amount(
        "flexible", q, start_at=start, booked_at=AT, cancelled_at=AT, by_role="renter"
    )
    assert full == Money(q.total, "EUR")


def test_scope_refusals_have_precise_codes() -> None:
    q, listing = two_nights(), uuid4()
    stay = Purchase(listing, OWNER, "stay", first_booking=False)
    cases = {
        "coupon_not_applicable": terms(scope="category", category="vehicle"),
        "coupon_first_booking_only": terms(scope="first_booking"),
        "coupon_currency_mismatch": terms(kind="fixed", amount=100, currency="USD"),
        "coupon_minimum_not_met": terms(min_subtotal=50_000, currency="EUR"),
    }
    for expected, t in cases.items():
        with pytest.raises(RuleViolation) as e:
            check_scope(t, stay, q)
        assert e.value.code == expected
    check_scope(terms(scope="listing", listing_ids=(listing,)), stay, q)
    with pytest.raises(RuleViolation):
        check_scope(terms(owner_id=uuid4()), stay, q)


def test_validity_limits_and_give_backs() -> None:
    coupon = Coupon.create(
        "WINDOW",
        terms(valid_from=AT, valid_until=AT + timedelta(days=1), max_redemptions=1),
        uuid4(),
        "admin",
        AT,
    )
    renter, other = uuid4(), uuid4()
    for at, expected in (
        (AT - timedelta(1), "coupon_not_yet_valid"),
        (AT + timedelta(1), "coupon_expired"),
    ):
        with pytest.raises(RuleViolation) as e:
            coupon.check_usable(user_id=renter, at=at)
        assert e.value.code == expected
    booking = uuid4()
    coupon.redeem(booking, renter, 2_000, AT + timedelta(days=30), AT)
    coupon.redeem(booking, renter, 2_000, AT + timedelta(days=30), AT)  # a retry: no-op
    assert coupon.redeemed == 1 and len(coupon.pending_events) == 2
    with pytest.raises(RuleViolation) as e:
        coupon.redeem(uuid4(), other, 2_000, AT, AT)
    assert e.value.code == "coupon_exhausted"
    assert coupon.release(booking, "cancelled", AT) is True
    assert coupon.release(booking, "cancelled", AT) is False
    coupon.redeem(uuid4(), other, 2_000, AT, AT)
    assert coupon.redeemed == 1


def test_only_its_creator_or_an_admin_ends_a_coupon_and_once() -> None:
    creator = uuid4()
    coupon = Coupon.create("MINE", terms(), creator, "user", AT)
    with pytest.raises(PermissionDenied):
        coupon.deactivate(uuid4(), "user", AT)
    coupon.deactivate(creator, "user", AT)
    with pytest.raises(ConflictError):
        coupon.deactivate(uuid4(), "admin", AT)
    with pytest.raises(RuleViolation) as e:
        coupon.check_usable(user_id=uuid4(), at=AT)
    assert e.value.code == "coupon_inactive"


def test_bad_terms_are_refused() -> None:
    for bad in (
        {"kind": "bogus"},
        {"percent_bp": 0},
        {"percent_bp": 10_001},
        {"kind": "fixed", "amount": 0, "currency": "EUR"},
        {"kind": "fixed", "amount": 100},
        {"min_subtotal": 100},
        {"max_redemptions": 0},
        {"valid_from": AT, "valid_until": AT},
        {"scope": "listing"},
        {"funded_by": "owner"},
    ):
        with pytest.raises(RuleViolation):
            terms(**bad)
