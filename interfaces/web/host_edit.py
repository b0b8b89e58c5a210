"""Editing a listing (/host/listings/{id}/edit): the wizard pre-filled from the listing, saved
through the same use case as the API's `PATCH /listings/{id}` (`listings.update`) with the
version the form was read at, so its rules answer here as there: a lost update or a state
that forbids editing is 409, a frozen field (the unit after the draft, the currency) is
422 next to the field. Fields the wizard does not show (hourly price windows, check-in and
check-out grace, ...) keep their values."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import command_context
from application.listing_defaults import with_default_timezone
from domain.errors import ConflictError, DomainError
from domain.money import major_units
from interfaces.web.host import MAX_PHOTO_BYTES, _owned, _wizard, get_photos
from interfaces.web.host_wizard import CATEGORY_FIELDS, MAX_PHOTOS, field_errors, spec_from_form
from interfaces.web.host_wizard_hours import hours_to_values
from interfaces.web.host_wizard_terms import terms_to_values
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, VisitorDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The domain's frozen-field messages, as the field they belong to.
_FROZEN = {"booking_unit": "booking_unit", "currency": "currency"}


def _major(amount: int, currency: str) -> str:
    """As the owner typed it: whole amounts without their zero decimals ("80", "80.50")."""
    whole, _, fraction = major_units(amount, currency).partition(".")
    return f"{whole}.{fraction}" if fraction.strip("0") else whole


def values_from_spec(spec: dict[str, Any]) -> dict[str, str]:
    """The wizard's fields for a listing (the inverse of `spec_from_form`)."""
    pricing, location = spec["pricing"], spec["location"]
    currency = pricing["base"]["currency"]
    values = {
        "title": spec["title"],
        "description": spec.get("description", ""),
        "category": spec["category"],
        "city": location["city"],
        "address": location["address"],
        "lat": str(location["lat"]),
        "lng": str(location["lng"]),
        "country": location["country"],
        "price": _major(pricing["base"]["amount"], currency),
        "currency": currency,
        "booking_unit": spec["booking_unit"],
        "booking_mode": spec["booking_mode"],
        "capacity": str(spec["capacity"]),
        "quantity": str(spec["quantity"]),
        "min_duration": str(spec["min_duration"]),
        "cancellation_policy": spec["cancellation_policy"],
        "amenities": ", ".join(spec.get("amenities", [])),
    }
    values |= terms_to_values(spec, _major)
    if pricing.get("cleaning_fee"):
        values["cleaning_fee"] = _major(pricing["cleaning_fee"]["amount"], currency)
    data = spec.get("category_data", {})
    for f in CATEGORY_FIELDS:
        if f.category == spec["category"] and f.attribute in data:
            value = data[f.attribute]
            if f.kind == "checkbox":
                values[f.name] = "on" if value else ""
            else:
                values[f.name] = str(value)
    if spec["booking_unit"] == "hour":
        values |= hours_to_values(spec.get("opening_hours", {}))
    return values


def _edit_context(listing: Any) -> dict[str, Any]:
    return {"listing": listing, "version": str(listing.version)}


def _changes(listing: Any, spec: dict[str, Any], places: Any) -> dict[str, Any]:
    """The full spec the form describes on top of the listing's own: what the wizard does not
    show is kept; the time zone is kept while the place is the same."""
    old = listing.spec
    location = spec["location"]
    same_place = all(location[k] == old["location"][k] for k in ("lat", "lng", "country"))
    if same_place:
        spec = {**spec, "location": {**location, "timezone": old["location"]["timezone"]}}
    spec = with_default_timezone(spec, places)
    pricing = {**old["pricing"], **spec["pricing"]}
    if "cleaning_fee" not in spec["pricing"]:
        pricing["cleaning_fee"] = None
    merged = {**old, **spec, "pricing": pricing}
    if spec["booking_unit"] != "hour":  # hourly-only terms go with the unit (a draft's change)
        merged["opening_hours"] = {}
        pricing["hourly_windows"] = []
    return merged


@router.get("/host/listings/{listing_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, listing_id: UUID, visitor: VisitorDep) -> Response:
    listing = _owned(visitor, listing_id)
    values = values_from_spec(listing.spec) | {"version": str(listing.version)}
    return _wizard(request, values, {}, 200, edit=_edit_context(listing))


@router.post("/host/listings/{listing_id}/edit", response_class=HTMLResponse)
def edit_listing(
    request: Request,
    listing_id: UUID,
    visitor: VisitorDep,
    form: FormDep,
    photos: list[bytes] = Depends(get_photos),
) -> Response:
    """Saves the edit (the API's PATCH, with the form's version as its If-Match); new photos
    are uploaded (the media use case) and added after the listing's own."""
    listing = _owned(visitor, listing_id)
    actor = visitor.require()
    container = visitor.container
    edit = _edit_context(listing)
    spec, errors = spec_from_form(form, container.places)
    merged = _changes(listing, spec, container.places)
    kept = list(listing.spec.get("photos", []))
    if len(kept) + len(photos) > MAX_PHOTOS:
        errors["photos"] = f"At most {MAX_PHOTOS} photos in all ({len(kept)} already)."
    if any(len(p) > MAX_PHOTO_BYTES for p in photos):
        errors["photos"] = "Each photo is at most 10 MB."
    errors = errors | {k: v for k, v in field_errors(merged).items() if k not in errors}
    try:
        version = int(form.get("version", ""))
    except ValueError:
        errors["form"] = "The form is missing the listing's version; reload the page."
    if errors:
        return _wizard(request, form, errors, 422, edit=edit)
    library = container.media
    if photos and library is None:
        return _wizard(request, form, {"photos": "Photo uploads are not configured."}, 422, edit)
    try:
        with command_context(actor, request_id=visitor.request_id):
            added = [
                str(library.upload(actor, p, visitor.now)[0].id)  # type: ignore[union-attr]
                for p in photos
            ]
            if added:
                merged["photos"] = [str(p) for p in kept] + added
            position = container.listings.update(
                actor, listing_id, merged, visitor.now, if_version=version
            )
    except ConflictError as error:  # 409: changed meanwhile, or a state that forbids it
        return _wizard(request, form, {"form": error.detail}, 409, edit=edit)
    except DomainError as error:
        return _wizard(request, form, _rule_errors(error), 422, edit=edit)
    visitor.read_your_writes(position, "listings")
    return RedirectResponse(f"/host/listings/{listing_id}", status_code=303)


def _rule_errors(error: DomainError) -> dict[str, str]:
    if error.code == "frozen_field":
        for word, name in _FROZEN.items():
            if word in error.detail:
                return {name: error.detail}
    return {"form": error.detail}
