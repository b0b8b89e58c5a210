"""The listing wizard's form: its fields (category fields derived from the domain's own
attribute models), the spec it builds, and the domain's validation errors mapped back to
the fields that caused them, so the owner sees each problem next to what they typed."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from application.places import Places
from domain.categories import ATTRIBUTE_MODELS, CATEGORIES
from domain.errors import DomainError
from domain.listing_spec import ListingSpec
from domain.money import minor_units
from interfaces.web.host_wizard_hours import field_of_message, hours_from_form
from interfaces.web.host_wizard_terms import (
    field_of_loc,
    form_number,
    multiplier_errors,
    terms_from_form,
)

CURRENCIES = ("EUR", "USD", "GBP", "BRL", "AUD", "JPY")
POLICIES = ("flexible", "moderate", "strict", "non_refundable")
UNITS = ("night", "day", "hour")
MAX_PHOTOS = 8


@dataclass(frozen=True)
class CategoryField:
    category: str
    name: str  # the form field: cd_<category>_<attribute>
    attribute: str
    kind: str  # select | number | text | checkbox
    options: tuple[str, ...] = ()
    step: str = "1"


def category_fields() -> list[CategoryField]:
    """Every category's attributes as form fields, read from the domain's pydantic models."""
    fields: list[CategoryField] = []
    for category in CATEGORIES:
        for attribute, info in ATTRIBUTE_MODELS[category].model_fields.items():
            annotation = info.annotation
            name = f"cd_{category}_{attribute}"
            if typing.get_origin(annotation) is typing.Literal:
                options = tuple(str(a) for a in typing.get_args(annotation))
                fields.append(CategoryField(category, name, attribute, "select", options))
            elif annotation is bool:
                fields.append(CategoryField(category, name, attribute, "checkbox"))
            elif annotation in (int, float):
                step = "1" if annotation is int else "0.5"
                fields.append(CategoryField(category, name, attribute, "number", step=step))
            else:
                fields.append(CategoryField(category, name, attribute, "text"))
    return fields


CATEGORY_FIELDS = category_fields()


def _minor(text: str, currency: str) -> int | str:
    """Major units typed by a person ("80", "80.50") as minor units; what is not an amount
    goes on as typed, for the spec's check to name the field."""
    minor = minor_units(text, currency)
    return text if minor is None else minor


def spec_from_form(form: dict[str, str], places: Places) -> tuple[dict[str, Any], dict[str, str]]:
    """The listing spec the form describes, and errors of fields the domain never sees."""
    errors: dict[str, str] = {}
    category = form.get("category", "")
    currency = form.get("currency", "EUR")
    data: dict[str, Any] = {}
    for f in CATEGORY_FIELDS:
        if f.category != category:
            continue
        raw = form.get(f.name, "")
        if f.kind == "checkbox":
            data[f.attribute] = raw == "on"
        elif raw != "":
            data[f.attribute] = form_number(raw) if f.kind == "number" else raw
    lat, lng, country = form.get("lat", ""), form.get("lng", ""), form.get("country", "")
    if form.get("city") and not (lat and lng and country):  # typed without picking
        found = places.autocomplete(form["city"], limit=1)
        if found:
            lat, lng, country = str(found[0].lat), str(found[0].lng), found[0].country
        else:
            errors["city"] = "No city of that name; pick one from the suggestions."
    if not form.get("city"):
        errors["city"] = "Pick the city."
    unit = form.get("booking_unit", "night")
    spec: dict[str, Any] = {
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "category": category,
        "category_data": data,
        "location": {
            "address": form.get("address", ""),
            "city": form.get("city", ""),
            "country": country.upper(),
            "lat": form_number(lat) if lat else 0.0,
            "lng": form_number(lng) if lng else 0.0,
            "timezone": None,
        },
        "booking_unit": unit,
        "pricing": {
            "base": {"amount": _minor(form.get("price", ""), currency), "currency": currency}
        },
        "quantity": form_number(form.get("quantity", "1") or "1"),
        "capacity": form_number(form.get("capacity", "1") or "1"),
        "amenities": [a.strip() for a in form.get("amenities", "").split(",") if a.strip()],
        "booking_mode": form.get("booking_mode", "instant"),
        "min_duration": form_number(form.get("min_duration", "1") or "1"),
        "cancellation_policy": form.get("cancellation_policy", "moderate"),
    }
    if form.get("cleaning_fee"):
        spec["pricing"]["cleaning_fee"] = {
            "amount": _minor(form["cleaning_fee"], currency),
            "currency": currency,
        }
    pricing, rules, term_errors = terms_from_form(form, unit, _minor)
    spec["pricing"] |= pricing
    spec |= rules
    errors |= term_errors
    if unit == "hour":  # hourly listings open on weekdays' opening hours
        spec["opening_hours"], hour_errors = hours_from_form(form)
        errors |= hour_errors
    return spec, errors


_TOP_FIELDS = {
    "title": "title",
    "description": "description",
    "category": "category",
    "booking_unit": "booking_unit",
    "quantity": "quantity",
    "capacity": "capacity",
    "amenities": "amenities",
    "booking_mode": "booking_mode",
    "min_duration": "min_duration",
    "cancellation_policy": "cancellation_policy",
    "opening_hours": "opening_hours",
}


def field_errors(spec: dict[str, Any]) -> dict[str, str]:
    """The domain's validation of the spec, as {form field: message}: the category's
    attribute model first (its errors name the attribute), then the whole spec."""
    found: dict[str, str] = {}
    category = spec.get("category", "")
    model = ATTRIBUTE_MODELS.get(category)
    if model is not None:
        try:
            model.model_validate(spec.get("category_data", {}))
        except ValidationError as error:
            found |= _map(error, category, prefix=("category_data",))
    try:
        ListingSpec.model_validate(spec)
    except ValidationError as error:
        found = _map(error, category) | found
        if "weekday_multipliers" in found:  # each refused day next to its own field
            found |= multiplier_errors(spec)
    except DomainError as error:  # the domain's own rules (category data, time zone, hours)
        if error.code == "bad_opening_hours":
            name, message = field_of_message(error.detail)
            found.setdefault(name, message)
        elif not found:
            found["category" if error.code == "bad_category_data" else "form"] = error.detail
    return found


def _map(error: ValidationError, category: str, prefix: tuple[str, ...] = ()) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in error.errors():
        loc = [*prefix, *(str(p) for p in problem["loc"])]
        message = str(problem["msg"]).removeprefix("Value error, ")
        head = loc[0] if loc else ""
        terms = field_of_loc(loc, message)
        if terms is not None:
            found.setdefault(*terms)
            continue
        if head == "category_data":
            name = f"cd_{category}_{loc[1]}" if len(loc) > 1 else "category"
        elif head == "location":
            name = {"address": "address"}.get(loc[1] if len(loc) > 1 else "", "city")
        elif head == "pricing":
            name = "cleaning_fee" if "cleaning_fee" in loc else "price"
            message = "Enter an amount, e.g. 80 or 80.50."
        else:
            name = _TOP_FIELDS.get(head, "form")
        found.setdefault(name, message)
    return found
