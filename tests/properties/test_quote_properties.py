"""Quote invariants over random pricing rules, periods and quantities."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.money import Money
from domain.periods import WEEKDAYS, day_slot_keys, key_to_instant
from domain.pricing import HourlyWindow, PricingRules, Quote, quote

Case = tuple[PricingRules, date | datetime, date | datetime]
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")
bp = st.integers(0, 10_000)
hhmm = st.integers(0, 23).map(lambda h: f"{h:02d}:00")


@st.composite
def windows(draw: st.DrawFn) -> HourlyWindow:
    start = draw(st.integers(0, 23))
    end = draw(st.integers(start + 1, 24))
    days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
    return HourlyWindow(
        tuple(days), f"{start:02d}:00", f"{end:02d}:00", draw(st.integers(0, 50_000))
    )


@st.composite
def rules_and_period(draw: st.DrawFn) -> Case:
    unit = draw(st.sampled_from(("night", "day", "hour")))
    tz = draw(st.sampled_from(ZONES))
    first = draw(st.dates(date(2024, 1, 1), date(2028, 12, 31)))
    overrides = draw(
        st.dictionaries(
            st.integers(0, 40).map(lambda d: (first + timedelta(days=d)).isoformat()),
            st.integers(0, 1_000_000),
            max_size=5,
        )
    )
    rules = PricingRules(
        base=Money(draw(st.integers(0, 10_000_000)), "EUR"),
        unit=unit,
        timezone=tz,
        weekly_discount_bp=draw(st.integers(0, 9_000)),
        monthly_discount_bp=draw(st.integers(0, 9_000)),
        cleaning_fee=draw(st.none() | st.integers(0, 100_000).map(lambda a: Money(a, "EUR"))),
        weekday_multipliers_bp=draw(
            st.dictionaries(st.sampled_from(WEEKDAYS), st.integers(0, 100_000), max_size=7)
        ),
        hourly_windows=tuple(draw(st.lists(windows(), max_size=3))) if unit == "hour" else (),
        date_overrides=overrides,
        service_fee_bp=draw(bp),
        commission_bp=draw(bp),
        tax_bp=draw(bp),
    )
    if unit == "hour":
        slots = day_slot_keys(first, tz) + day_slot_keys(first + timedelta(days=1), tz)
        i = draw(st.integers(0, len(slots) - 2))
        j = draw(st.integers(i + 1, len(slots) - 1))
        return rules, key_to_instant(slots[i]), key_to_instant(slots[j])
    return rules, first, first + timedelta(days=draw(st.integers(1, 35)))


quantities = st.integers(1, 20)
guests = st.integers(1, 30)


@given(rules_and_period(), quantities, guests)
def test_the_same_input_gives_the_identical_quote(case: Case, quantity: int, guests: int) -> None:
    rules, start, end = case
    one = quote(rules, start, end, quantity, guests)
    again = quote(PricingRules.from_dict(rules.as_dict()), start, end, quantity, guests)
    assert one == again
    assert json.dumps(one.as_dict()) == json.dumps(again.as_dict())


@given(rules_and_period(), quantities, guests)
def test_a_quote_is_never_negative_and_its_parts_add_up(
    case: Case, quantity: int, guests: int
) -> None:
    rules, start, end = case
    q = quote(rules, start, end, quantity, guests)
    money_fields = (q.base_total, q.discount, q.subtotal, q.cleaning_fee, q.service_fee, q.tax)
    assert all(isinstance(v, int) and v >= 0 for v in (*money_fields, q.total, q.commission))
    assert q.owner_payout >= 0
    assert all(price >= 0 for _, price in q.unit_prices)
    assert q.base_total == sum(price for _, price in q.unit_prices) * quantity
    assert q.subtotal == q.base_total - q.discount
    assert q.total == q.subtotal + q.cleaning_fee + q.service_fee + q.tax
    assert sum(item.amount for item in q.line_items) == q.total
    assert q.owner_payout + q.commission == q.subtotal + q.cleaning_fee


@given(rules_and_period(), quantities, guests)
def test_a_quote_round_trips_through_json(case: Case, quantity: int, guests: int) -> None:
    rules, start, end = case
    q = quote(rules, start, end, quantity, guests)
    assert Quote.from_dict(json.loads(json.dumps(q.as_dict()))) == q
    assert PricingRules.from_dict(json.loads(json.dumps(rules.as_dict()))) == rules
