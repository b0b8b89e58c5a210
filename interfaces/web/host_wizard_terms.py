"""The wizard's pricing terms and booking rules beyond the base price: weekly and monthly
discounts, weekday price multipliers (nights and days; hourly listings price peaks by hourly
windows, which the wizard leaves alone), the security deposit, and the rules on length,
notice, how far ahead, and the turnover buffer (hourly only). Read from the form into the
spec's own fields; the domain's `ListingSpec` judges them, as it does for the API."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from domain.listing_spec import Pricing
from domain.periods import WEEKDAYS

# Rule fields that are whole numbers, and their value when left empty (the spec's defaults).
RULE_DEFAULTS = {"advance_notice_hours": "0", "booking_window_days": "365", "buffer_minutes": "0"}
RULE_FIELDS = ("max_duration", *RULE_DEFAULTS)
DISCOUNT_FIELDS = ("weekly_discount_pct", "monthly_discount_pct")


def multiplier_field(day: str) -> str:
    return f"wm_{day}"


def form_number(text: str) -> int | float | str:
    """A number field as typed: int, float, or the text itself for the domain to refuse."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text  # the domain's validation names the problem


def terms_from_form(
    form: dict[str, str], unit: str, minor: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(pricing fields, top-level spec fields, form errors) the form's terms describe. `minor`
    turns a typed amount into minor units of the form's currency."""
    errors: dict[str, str] = {}
    pricing: dict[str, Any] = {
        name: form_number(form.get(name, "").strip() or "0") for name in DISCOUNT_FIELDS
    }
    multipliers: dict[str, Any] = {}
    if unit != "hour":
        for day in WEEKDAYS:
            text = form.get(multiplier_field(day), "").strip()
            if not text:
                continue  # the base price that day
            value = form_number(text)
            if isinstance(value, str):
                errors[multiplier_field(day)] = "Enter a multiplier, e.g. 1.2 or 0.9."
            else:
                multipliers[day] = value
    pricing["weekday_multipliers"] = multipliers
    rules: dict[str, Any] = {
        name: form_number(form.get(name, "").strip() or default)
        for name, default in RULE_DEFAULTS.items()
    }
    if unit != "hour":
        rules["buffer_minutes"] = 0  # a turnover buffer is between hourly slots only
    most = form.get("max_duration", "").strip()
    rules["max_duration"] = form_number(most) if most else None
    deposit = form.get("deposit", "").strip()
    currency = form.get("currency", "EUR")
    rules["deposit"] = None
    if deposit:
        rules["deposit"] = {"amount": minor(deposit, currency), "currency": currency}
    return pricing, rules, errors


def terms_to_values(spec: dict[str, Any], major: Any) -> dict[str, str]:
    """The form's fields for a listing's terms (editing it); `major` formats minor units."""
    pricing = spec["pricing"]
    values = {name: _plain(pricing.get(name, 0)) for name in DISCOUNT_FIELDS}
    for day, value in pricing.get("weekday_multipliers", {}).items():
        values[multiplier_field(day)] = _plain(value)
    for name in RULE_FIELDS:
        if spec.get(name) is not None:
            values[name] = str(spec[name])
    if spec.get("deposit"):
        values["deposit"] = major(spec["deposit"]["amount"], spec["deposit"]["currency"])
    return values


def _plain(value: float) -> str:
    """20.0 as "20", 1.25 as "1.25"."""
    return str(int(value)) if float(value).is_integer() else str(value)


def field_of_loc(loc: list[str], message: str) -> tuple[str, str] | None:
    """The form field of a spec validation problem about the terms, or None if not theirs."""
    head = loc[0] if loc else ""
    if head == "pricing" and len(loc) > 1 and loc[1] in DISCOUNT_FIELDS:
        return loc[1], message
    if head == "pricing" and len(loc) > 1 and loc[1] == "weekday_multipliers":
        return "weekday_multipliers", message
    if head == "deposit":
        return "deposit", "Enter an amount, e.g. 200 or 199.50."
    if head in RULE_FIELDS:
        return head, message
    if not head and message.startswith("max_duration"):  # the spec's whole-model rule
        return "max_duration", "The longest rental must be at least the shortest."
    return None


def multiplier_errors(spec: dict[str, Any]) -> dict[str, str]:
    """Each weekday whose multiplier the domain refuses, next to its own field: the domain
    judges the days together, so each is put to it alone."""
    pricing = spec.get("pricing", {})
    found: dict[str, str] = {}
    for day, value in pricing.get("weekday_multipliers", {}).items():
        try:
            Pricing.model_validate({"base": pricing["base"], "weekday_multipliers": {day: value}})
        except ValidationError as error:
            problems = [p for p in error.errors() if "weekday_multipliers" in p["loc"]]
            if problems:
                message = str(problems[0]["msg"]).removeprefix("Value error, ")
                found[multiplier_field(day)] = message
    return found
