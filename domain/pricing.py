"""Quotes: a pure function of a listing's pricing rules, a period, a quantity and guests.

Price of ONE unit for each night/day/slot, rounded half up to a minor unit once:
- a night or day costs its date override if there is one, else base x the weekday multiplier
  of its date (a night belongs to the date it starts on);
- an hourly slot costs the override for its local date, else base, x the multiplier of the
  first hourly window holding the slot's local start time. Weekday multipliers are for nights
  and days; hourly listings express weekday peaks as hourly windows.

Then, in integers: base_total = sum of unit prices x quantity. A stay of >= 28 nights/days gets
the monthly discount (instead of the weekly one) when the listing has one, else a stay of >= 7
gets the weekly discount; hourly bookings get neither. subtotal = base_total - discount;
cleaning fee = fee x quantity. The renter's service fee, the tax and the owner's commission are
each a basis-point share of subtotal + cleaning fee, rounded half up.
total = subtotal + cleaning fee + service fee + tax; owner_payout = subtotal + cleaning fee -
commission. Line items are what the renter sees: signed amounts (the discount negative) that add
up to total; the commission is not one of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import RuleViolation
from domain.money import Money, round_half_up
from domain.periods import (
    UNITS,
    WEEKDAYS,
    format_instant,
    key_to_date,
    key_to_instant,
    period_keys,
    validate_timezone,
)

FULL_BP = 10_000
MAX_MULTIPLIER_BP = 100_000  # 10x
WEEKLY_MIN, MONTHLY_MIN = 7, 28
_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")


_BP_FIELDS = (
    "weekly_discount_bp",
    "monthly_discount_bp",
    "service_fee_bp",
    "commission_bp",
    "tax_bp",
)


def _bad(detail: str) -> RuleViolation:
    return RuleViolation("bad_pricing", detail)


def _int(value: object, what: str, lo: int = 0, hi: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"{what} must be an integer")
    if value < lo or (hi is not None and value > hi):
        raise _bad(f"{what} must be between {lo} and {hi}" if hi is not None else f"{what} >= {lo}")
    return value


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _frozen(mapping: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(sorted(mapping.items())))


@dataclass(frozen=True)
class HourlyWindow:
    """A peak (or off-peak) multiplier for slots starting in [start, end) local time on `days`."""

    days: tuple[str, ...]
    start: str
    end: str
    multiplier_bp: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", tuple(self.days))
        if not self.days or any(d not in WEEKDAYS for d in self.days):
            raise _bad(f"hourly window days must be among {', '.join(WEEKDAYS)}")
        for t in (self.start, self.end):
            if not isinstance(t, str) or not _HHMM.fullmatch(t):
                raise _bad("hourly window times are HH:MM (24:00 allowed as an end)")
        if _minutes(self.start) >= _minutes(self.end):
            raise _bad("an hourly window must start before it ends")
        _int(self.multiplier_bp, "hourly window multiplier_bp", 0, MAX_MULTIPLIER_BP)

    def holds(self, local_start: datetime) -> bool:
        minute = local_start.hour * 60 + local_start.minute
        weekday = WEEKDAYS[local_start.weekday()]
        return weekday in self.days and _minutes(self.start) <= minute < _minutes(self.end)

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": list(self.days),
            "start": self.start,
            "end": self.end,
            "multiplier_bp": self.multiplier_bp,
        }


@dataclass(frozen=True)
class PricingRules:
    base: Money
    unit: str
    timezone: str
    weekly_discount_bp: int = 0
    monthly_discount_bp: int = 0
    cleaning_fee: Money | None = None
    weekday_multipliers_bp: Mapping[str, int] = field(default_factory=dict)
    hourly_windows: tuple[HourlyWindow, ...] = ()
    date_overrides: Mapping[str, int] = field(default_factory=dict)
    service_fee_bp: int = 0
    commission_bp: int = 0
    tax_bp: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.base, Money) or self.base.amount < 0:
            raise _bad("base must be a non-negative Money")
        if self.unit not in UNITS:
            raise _bad(f"unit must be one of {', '.join(UNITS)}")
        validate_timezone(self.timezone)
        for name in _BP_FIELDS:
            _int(getattr(self, name), name, 0, FULL_BP)
        fee = self.cleaning_fee
        if fee is not None and (
            not isinstance(fee, Money) or fee.currency != self.base.currency or fee.amount < 0
        ):
            raise _bad("the cleaning fee must be a non-negative Money in the base currency")
        for day, bp in self.weekday_multipliers_bp.items():
            if day not in WEEKDAYS:
                raise _bad(f"unknown weekday {day!r}")
            _int(bp, f"multiplier for {day}", 0, MAX_MULTIPLIER_BP)
        for iso, amount in self.date_overrides.items():
            _check_iso_date(iso)
            _int(amount, f"override for {iso}")
        windows = tuple(self.hourly_windows)
        if not all(isinstance(w, HourlyWindow) for w in windows):
            raise _bad("hourly_windows must be HourlyWindow values")
        object.__setattr__(self, "hourly_windows", windows)
        object.__setattr__(self, "weekday_multipliers_bp", _frozen(self.weekday_multipliers_bp))
        object.__setattr__(self, "date_overrides", _frozen(self.date_overrides))

    def __hash__(self) -> int:
        return hash(json.dumps(self.as_dict(), sort_keys=True))

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base.as_dict(),
            "unit": self.unit,
            "timezone": self.timezone,
            "weekly_discount_bp": self.weekly_discount_bp,
            "monthly_discount_bp": self.monthly_discount_bp,
            "cleaning_fee": self.cleaning_fee.as_dict() if self.cleaning_fee else None,
            "weekday_multipliers_bp": dict(self.weekday_multipliers_bp),
            "hourly_windows": [w.as_dict() for w in self.hourly_windows],
            "date_overrides": dict(self.date_overrides),
            "service_fee_bp": self.service_fee_bp,
            "commission_bp": self.commission_bp,
            "tax_bp": self.tax_bp,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PricingRules:
        try:
            fee = d.get("cleaning_fee")
            return cls(
                base=_money(d["base"]),
                unit=d["unit"],
                timezone=d["timezone"],
                weekly_discount_bp=d.get("weekly_discount_bp", 0),
                monthly_discount_bp=d.get("monthly_discount_bp", 0),
                cleaning_fee=_money(fee) if fee is not None else None,
                weekday_multipliers_bp=dict(d.get("weekday_multipliers_bp", {})),
                hourly_windows=tuple(
                    HourlyWindow(
                        days=tuple(w["days"]),
                        start=w["start"],
                        end=w["end"],
                        multiplier_bp=w["multiplier_bp"],
                    )
                    for w in d.get("hourly_windows", ())
                ),
                date_overrides=dict(d.get("date_overrides", {})),
                service_fee_bp=d.get("service_fee_bp", 0),
                commission_bp=d.get("commission_bp", 0),
                tax_bp=d.get("tax_bp", 0),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise _bad(f"malformed pricing rules: {e!r}") from None


def _money(d: Mapping[str, Any]) -> Money:
    if not isinstance(d.get("amount"), int) or isinstance(d.get("amount"), bool):
        raise _bad("money amounts are integer minor units")
    return Money(d["amount"], d["currency"])


def _check_iso_date(iso: object) -> None:
    try:
        if not isinstance(iso, str) or len(iso) != 10:
            raise ValueError(iso)
        date.fromisoformat(iso)
    except ValueError:
        raise _bad(f"override key {iso!r} is not a YYYY-MM-DD date") from None


@dataclass(frozen=True)
class LineItem:
    code: str  # base | discount | cleaning_fee | service_fee | tax
    label: str
    amount: int


@dataclass(frozen=True)
class Quote:
    currency: str
    unit: str
    start: str
    end: str
    quantity: int
    guests: int
    unit_prices: tuple[tuple[str, int], ...]
    base_total: int
    discount: int
    subtotal: int
    cleaning_fee: int
    service_fee: int
    tax: int
    total: int
    commission: int
    owner_payout: int
    line_items: tuple[LineItem, ...]
    # A coupon's part (domain/coupon_terms.py); quotes stored before coupons lack these keys.
    coupon_code: str = ""
    coupon_discount: int = 0
    coupon_funded_by: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["unit_prices"] = [[when, price] for when, price in self.unit_prices]
        data["line_items"] = [
            {"code": li.code, "label": li.label, "amount": li.amount} for li in self.line_items
        ]
        return data

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Quote:
        defaults = {"coupon_code": "", "coupon_discount": 0, "coupon_funded_by": ""}
        fields = {name: d.get(name, defaults.get(name)) for name in cls.__dataclass_fields__}
        missing = [name for name, value in fields.items() if value is None]
        if missing:
            raise KeyError(missing[0])
        fields["unit_prices"] = tuple((str(w), int(p)) for w, p in d["unit_prices"])
        fields["line_items"] = tuple(
            LineItem(str(li["code"]), str(li["label"]), int(li["amount"])) for li in d["line_items"]
        )
        return cls(**fields)


def quote(
    rules: PricingRules, start: date | datetime, end: date | datetime, quantity: int, guests: int
) -> Quote:
    for value, code in ((quantity, "bad_quantity"), (guests, "bad_guests")):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise RuleViolation(code, f"{code.removeprefix('bad_')} must be at least 1")
    keys = period_keys(rules.unit, start, end, rules.timezone)
    if rules.unit == "hour":
        zone = ZoneInfo(rules.timezone)
        prices = tuple(_slot_price(rules, key_to_instant(k).astimezone(zone)) for k in keys)
    else:
        prices = tuple(_day_price(rules, key_to_date(k)) for k in keys)

    base_total = sum(p for _, p in prices) * quantity
    discount_bp, discount_label = _length_discount(rules, len(keys))
    discount = round_half_up(base_total * discount_bp, FULL_BP)
    subtotal = base_total - discount
    cleaning = rules.cleaning_fee.amount * quantity if rules.cleaning_fee else 0
    taxable = subtotal + cleaning
    service_fee = round_half_up(taxable * rules.service_fee_bp, FULL_BP)
    tax = round_half_up(taxable * rules.tax_bp, FULL_BP)
    commission = round_half_up(taxable * rules.commission_bp, FULL_BP)
    total = taxable + service_fee + tax

    count = f"{len(keys)} {rules.unit}{'' if len(keys) == 1 else 's'}"
    items = [LineItem("base", count + (f" x {quantity} units" if quantity > 1 else ""), base_total)]
    items += [LineItem("discount", discount_label, -discount)] if discount else []
    items += [LineItem("cleaning_fee", "Cleaning fee", cleaning)] if cleaning else []
    items += [LineItem("service_fee", "Service fee", service_fee)] if service_fee else []
    items += [LineItem("tax", "Taxes", tax)] if tax else []
    return Quote(
        currency=rules.base.currency,
        unit=rules.unit,
        start=_as_text(start),
        end=_as_text(end),
        quantity=quantity,
        guests=guests,
        unit_prices=prices,
        base_total=base_total,
        discount=discount,
        subtotal=subtotal,
        cleaning_fee=cleaning,
        service_fee=service_fee,
        tax=tax,
        total=total,
        commission=commission,
        owner_payout=taxable - commission,
        line_items=tuple(items),
    )


def _as_text(at: date | datetime) -> str:
    return format_instant(at) if isinstance(at, datetime) else at.isoformat()


def _day_price(rules: PricingRules, day: date) -> tuple[str, int]:
    iso = day.isoformat()
    if iso in rules.date_overrides:
        return iso, rules.date_overrides[iso]
    multiplier = rules.weekday_multipliers_bp.get(WEEKDAYS[day.weekday()], FULL_BP)
    return iso, round_half_up(rules.base.amount * multiplier, FULL_BP)


def _slot_price(rules: PricingRules, local_start: datetime) -> tuple[str, int]:
    amount = rules.date_overrides.get(local_start.date().isoformat(), rules.base.amount)
    window = next((w for w in rules.hourly_windows if w.holds(local_start)), None)
    multiplier = window.multiplier_bp if window else FULL_BP
    return format_instant(local_start.astimezone(UTC)), round_half_up(amount * multiplier, FULL_BP)


def _length_discount(rules: PricingRules, units: int) -> tuple[int, str]:
    if rules.unit == "hour":
        return 0, ""
    if units >= MONTHLY_MIN and rules.monthly_discount_bp:
        return rules.monthly_discount_bp, "Monthly discount"
    if units >= WEEKLY_MIN and rules.weekly_discount_bp:
        return rules.weekly_discount_bp, "Weekly discount"
    return 0, ""
