"""Quotes: per-unit prices, discounts, fees and the split between renter, owner and platform."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.errors import RuleViolation
from domain.money import Money
from domain.pricing import HourlyWindow, PricingRules, Quote, quote

BERLIN = ZoneInfo("Europe/Berlin")


def nightly(**overrides: object) -> PricingRules:
    fields: dict[str, object] = {
        "base": Money(10_000, "EUR"),
        "unit": "night",
        "timezone": "Europe/Berlin",
    }
    return PricingRules(**{**fields, **overrides})  # type: ignore[arg-type]


def hourly(**overrides: object) -> PricingRules:
    return nightly(unit="hour", base=Money(2_000, "EUR"), **overrides)


def test_each_night_costs_the_base_price() -> None:
    # Given a plain 100.00 EUR listing
    # When three nights are quoted
    q = quote(nightly(), date(2026, 6, 1), date(2026, 6, 4), 1, 2)
    # Then each night is 100.00 and the renter pays 300.00
    assert q.unit_prices == (("2026-06-01", 10_000), ("2026-06-02", 10_000), ("2026-06-03", 10_000))
    assert (q.base_total, q.subtotal, q.total, q.owner_payout) == (30_000, 30_000, 30_000, 30_000)


def test_weekday_multiplier_prices_a_night_by_the_date_it_starts_on() -> None:
    rules = nightly(weekday_multipliers_bp={"fri": 12_500})
    # 2026-06-05 is a Friday: the Friday night costs more, the Thursday and Saturday nights don't
    q = quote(rules, date(2026, 6, 4), date(2026, 6, 7), 1, 1)
    assert [p for _, p in q.unit_prices] == [10_000, 12_500, 10_000]


def test_a_date_override_replaces_the_price_of_that_night_without_multiplier() -> None:
    rules = nightly(weekday_multipliers_bp={"fri": 12_500}, date_overrides={"2026-06-05": 30_000})
    q = quote(rules, date(2026, 6, 5), date(2026, 6, 6), 1, 1)
    assert q.unit_prices == (("2026-06-05", 30_000),)


def test_per_unit_prices_round_half_up_to_a_minor_unit() -> None:
    rules = nightly(base=Money(999, "EUR"), weekday_multipliers_bp={"mon": 10_050})
    # 999 x 1.005 = 1003.995 -> 1004
    q = quote(rules, date(2026, 6, 1), date(2026, 6, 2), 1, 1)
    assert q.unit_prices == (("2026-06-01", 1004),)


def test_weekly_discount_applies_from_seven_nights() -> None:
    rules = nightly(weekly_discount_bp=1_000)
    six = quote(rules, date(2026, 6, 1), date(2026, 6, 7), 1, 1)
    seven = quote(rules, date(2026, 6, 1), date(2026, 6, 8), 1, 1)
    assert six.discount == 0
    assert (seven.base_total, seven.discount, seven.subtotal) == (70_000, 7_000, 63_000)


def test_monthly_discount_replaces_the_weekly_one_from_28_nights() -> None:
    rules = nightly(weekly_discount_bp=1_000, monthly_discount_bp=2_500)
    q = quote(rules, date(2026, 6, 1), date(2026, 6, 29), 1, 1)
    assert q.discount == 70_000  # 25 % of 280 000, not 10 % + 25 %
    assert [li.label for li in q.line_items if li.code == "discount"] == ["Monthly discount"]


def test_a_long_stay_without_a_monthly_discount_keeps_the_weekly_one() -> None:
    q = quote(nightly(weekly_discount_bp=1_000), date(2026, 6, 1), date(2026, 6, 29), 1, 1)
    assert q.discount == 28_000


def test_fees_commission_and_tax_are_shares_of_subtotal_plus_cleaning() -> None:
    # Given a listing with a cleaning fee, a 12 % service fee, 3 % commission and 7 % tax
    rules = nightly(
        cleaning_fee=Money(2_500, "EUR"), service_fee_bp=1_200, commission_bp=300, tax_bp=700
    )
    # When two units are booked for two nights
    q = quote(rules, date(2026, 6, 1), date(2026, 6, 3), 2, 4)
    # Then the cleaning fee is per unit and the shares are of 400.00 + 50.00
    assert (q.subtotal, q.cleaning_fee) == (40_000, 5_000)
    assert (q.service_fee, q.tax, q.commission) == (5_400, 3_150, 1_350)
    assert q.total == 40_000 + 5_000 + 5_400 + 3_150
    assert q.owner_payout == 45_000 - 1_350


def test_line_items_add_up_to_the_total_with_the_discount_negative() -> None:
    rules = nightly(weekly_discount_bp=1_000, cleaning_fee=Money(2_500, "EUR"), tax_bp=1_000)
    q = quote(rules, date(2026, 6, 1), date(2026, 6, 8), 1, 1)
    assert [li.code for li in q.line_items] == ["base", "discount", "cleaning_fee", "tax"]
    assert sum(li.amount for li in q.line_items) == q.total


def test_hourly_slots_take_the_first_matching_window_multiplier() -> None:
    rules = hourly(
        hourly_windows=(
            HourlyWindow(("sat",), "18:00", "20:00", 20_000),
            HourlyWindow(("sat", "sun"), "17:00", "22:00", 15_000),
        )
    )
    # 2026-06-06 is a Saturday: 16:00 base, 17:00 second window, 18:00 and 19:00 first window
    start = datetime(2026, 6, 6, 16, tzinfo=BERLIN)
    q = quote(rules, start, datetime(2026, 6, 6, 20, tzinfo=BERLIN), 1, 1)
    assert [p for _, p in q.unit_prices] == [2_000, 3_000, 4_000, 4_000]
    assert q.unit_prices[0][0] == "2026-06-06T14:00:00Z"
    assert (q.start, q.end) == ("2026-06-06T14:00:00Z", "2026-06-06T18:00:00Z")


def test_an_hourly_date_override_applies_to_every_slot_of_that_local_date() -> None:
    rules = hourly(
        date_overrides={"2026-06-06": 5_000},
        hourly_windows=(HourlyWindow(("sat",), "23:00", "24:00", 20_000),),
    )
    q = quote(
        rules, datetime(2026, 6, 6, 22, tzinfo=BERLIN), datetime(2026, 6, 7, 1, tzinfo=BERLIN), 1, 1
    )
    assert [p for _, p in q.unit_prices] == [5_000, 10_000, 2_000]


def test_hourly_bookings_get_no_length_of_stay_discount() -> None:
    rules = hourly(weekly_discount_bp=5_000)
    q = quote(
        rules, datetime(2026, 6, 6, 0, tzinfo=BERLIN), datetime(2026, 6, 6, 10, tzinfo=BERLIN), 1, 1
    )
    assert q.discount == 0


def test_a_spring_forward_day_rental_charges_23_hourly_slots() -> None:
    q = quote(
        hourly(),
        datetime(2026, 3, 29, 0, tzinfo=BERLIN),
        datetime(2026, 3, 30, 0, tzinfo=BERLIN),
        1,
        1,
    )
    assert len(q.unit_prices) == 23
    assert q.base_total == 23 * 2_000


@pytest.mark.parametrize(
    ("quantity", "guests", "code"), [(0, 1, "bad_quantity"), (1, 0, "bad_guests")]
)
def test_quantity_and_guests_must_be_at_least_one(quantity: int, guests: int, code: str) -> None:
    with pytest.raises(RuleViolation) as e:
        quote(nightly(), date(2026, 6, 1), date(2026, 6, 2), quantity, guests)
    assert e.value.code == code


@pytest.mark.parametrize(
    "bad",
    [
        {"unit": "week"},
        {"timezone": "Nowhere/Land"},
        {"weekly_discount_bp": 10_001},
        {"commission_bp": -1},
        {"cleaning_fee": Money(100, "USD")},
        {"weekday_multipliers_bp": {"funday": 10_000}},
        {"date_overrides": {"2026-02-30": 100}},
        {"date_overrides": {"2026-06-01": -5}},
        {"base": Money(-1, "EUR")},
    ],
)
def test_incoherent_pricing_rules_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(RuleViolation) as e:
        nightly(**bad)
    assert e.value.code in ("bad_pricing", "bad_timezone")


def test_an_hourly_window_must_start_before_it_ends() -> None:
    with pytest.raises(RuleViolation):
        HourlyWindow(("mon",), "18:00", "17:00", 15_000)


def test_pricing_rules_round_trip_through_json_exactly() -> None:
    rules = hourly(
        weekday_multipliers_bp={"sat": 12_000},
        hourly_windows=(HourlyWindow(("fri", "sat"), "18:00", "24:00", 15_000),),
        date_overrides={"2026-12-31": 9_000},
        cleaning_fee=Money(500, "EUR"),
        service_fee_bp=1_000,
        commission_bp=300,
        tax_bp=1_900,
    )
    again = PricingRules.from_dict(json.loads(json.dumps(rules.as_dict())))
    assert again == rules
    assert hash(again) == hash(rules)


def test_a_quote_round_trips_through_json_exactly() -> None:
    rules = nightly(cleaning_fee=Money(2_500, "EUR"), weekly_discount_bp=500, tax_bp=700)
    q = quote(rules, date(2026, 6, 1), date(2026, 6, 9), 2, 3)
    assert Quote.from_dict(json.loads(json.dumps(q.as_dict()))) == q


def test_malformed_pricing_dicts_are_refused() -> None:
    with pytest.raises(RuleViolation) as e:
        PricingRules.from_dict({"base": {"amount": 10.5, "currency": "EUR"}, "unit": "night"})
    assert e.value.code == "bad_pricing"
