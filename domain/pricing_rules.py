"""PricingRules from a listing's spec and per-date overrides, without the aggregate.

`Listing.pricing_rules` and the read side (the availability view prices its calendar from
the spec it keeps) build rules the same way, so both quote the same amounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.money import Money
from domain.pricing import HourlyWindow, PricingRules


def _bp(pct_or_factor: float, scale: int) -> int:
    return round(pct_or_factor * scale)


def pricing_rules_from_spec(
    spec: Mapping[str, Any],
    price_overrides: Mapping[str, int],
    *,
    service_fee_bp: int = 0,
    commission_bp: int = 0,
) -> PricingRules:
    """`spec` is a validated listing spec (`pricing`, `booking_unit`, `location.timezone`)."""
    p = spec["pricing"]
    return PricingRules(
        base=Money.from_dict(p["base"]),
        unit=str(spec["booking_unit"]),
        timezone=str(spec["location"]["timezone"]),
        weekly_discount_bp=_bp(p.get("weekly_discount_pct", 0), 100),
        monthly_discount_bp=_bp(p.get("monthly_discount_pct", 0), 100),
        cleaning_fee=Money.from_dict(p["cleaning_fee"]) if p.get("cleaning_fee") else None,
        weekday_multipliers_bp={
            d: _bp(m, 10_000) for d, m in p.get("weekday_multipliers", {}).items()
        },
        hourly_windows=tuple(
            HourlyWindow(
                days=tuple(w["days"]),
                start=w["start"],
                end=w["end"],
                multiplier_bp=_bp(w["multiplier"], 10_000),
            )
            for w in p.get("hourly_windows", ())
        ),
        date_overrides=dict(price_overrides),
        service_fee_bp=service_fee_bp,
        commission_bp=commission_bp,
    )
