"""The owner's pages (/host): their listings, the listing wizard, a listing's page with
submit-for-review, its calendar (block, unblock, price per date) and the requests inbox.
Every action goes through the same listing and booking use cases as the API, whose checks
(ownership, verified email, states) decide."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from application.context import command_context
from application.listing_defaults import with_default_timezone
from domain.errors import DomainError, NotFoundError
from domain.money import minor_units
from interfaces.web import host_calendar_sync
from interfaces.web.host_wizard import (
    CATEGORY_FIELDS,
    CURRENCIES,
    MAX_PHOTOS,
    POLICIES,
    UNITS,
    field_errors,
    spec_from_form,
)
from interfaces.web.host_wizard_hours import default_values as default_hours
from interfaces.web.host_wizard_hours import weekdays
from interfaces.web.host_wizard_terms import RULE_DEFAULTS
from interfaces.web.listing_view import calendar_weeks, listing_title, listing_zones
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render
from projections.bookings import list_bookings
from projections.listings import list_owner_listings

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MAX_PHOTO_BYTES = 10 * 1024 * 1024


async def get_photos(request: Request) -> list[bytes]:
    """The images sent in the form's `photos` field (empty file inputs are skipped)."""
    form = await request.form()
    photos = []
    for part in form.getlist("photos")[:MAX_PHOTOS]:
        if isinstance(part, UploadFile) and part.filename:
            data = await part.read(MAX_PHOTO_BYTES + 1)
            if data:
                photos.append(data)
    return photos


@router.get("/host", response_class=HTMLResponse)
def host_home(request: Request, visitor: VisitorDep) -> Response:
    actor = visitor.require()
    container = visitor.container
    with container.views.connect() as conn:
        rows, _ = list_owner_listings(conn, container.runner.tables("listings"), actor.id, 100)
        requests, _ = list_bookings(
            conn, container.runner.tables("bookings"), actor.id, "owner",
            "pending_owner_approval", 50, None,
        )  # fmt: skip
    user = container.identity.get_user(actor.id)
    titles = {r["listing_id"]: listing_title(visitor, UUID(r["listing_id"])) for r in requests}
    context = {
        "listings": rows,
        "requests": requests,
        "titles": titles,
        "zones": listing_zones(visitor, requests),  # hourly requests in local time
        "verified": user.email_verified,
    }
    return render(request, "host.html", context)


def _wizard(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    status: int,
    edit: dict[str, Any] | None = None,
) -> Any:
    """The wizard page; `edit` (the listing and its version, host_edit) makes it the edit form."""
    context = {
        "values": values,
        "errors": errors,
        "category_fields": CATEGORY_FIELDS,
        "currencies": CURRENCIES,
        "policies": POLICIES,
        "units": UNITS,
        "weekdays": weekdays(),
        "edit": edit,
    }
    return render(request, "host_wizard.html", context, status_code=status)


@router.get("/host/listings/new", response_class=HTMLResponse)
def wizard_page(request: Request, visitor: VisitorDep) -> Response:
    visitor.require()
    defaults = {"category": "stay", "currency": "EUR", "booking_unit": "night", "capacity": "2"}
    defaults |= default_hours() | RULE_DEFAULTS
    return _wizard(request, defaults | {"quantity": "1", "min_duration": "1"}, {}, 200)


@router.post("/host/listings/new", response_class=HTMLResponse)
def create_listing(
    request: Request,
    visitor: VisitorDep,
    form: FormDep,
    photos: list[bytes] = Depends(get_photos),
) -> Response:
    """Validates with the domain's own spec, uploads the photos (the media use case), then
    creates the draft (the listings use case)."""
    actor = visitor.require()
    container = visitor.container
    spec, errors = spec_from_form(form, container.places)
    spec = with_default_timezone(spec, container.places)
    errors = errors | {k: v for k, v in field_errors(spec).items() if k not in errors}
    if any(len(p) > MAX_PHOTO_BYTES for p in photos):
        errors["photos"] = "Each photo is at most 10 MB."
    if errors:
        return _wizard(request, form, errors, 422)
    library = container.media
    if photos and library is None:
        return _wizard(request, form, {"photos": "Photo uploads are not configured."}, 422)
    try:
        with command_context(actor, request_id=visitor.request_id):
            media_ids = [
                str(library.upload(actor, p, visitor.now)[0].id)  # type: ignore[union-attr]
                for p in photos
            ]
    except DomainError as error:
        return _wizard(request, form, {"photos": error.detail}, 422)
    spec["photos"] = media_ids
    spec["cover_photo_id"] = media_ids[0] if media_ids else None
    try:
        with command_context(actor, request_id=visitor.request_id):
            listing_id, position = container.listings.create(actor, spec, visitor.now)
    except DomainError as error:
        return _wizard(request, form, {"form": error.detail}, 422)
    visitor.read_your_writes(position, "listings")
    return RedirectResponse(f"/host/listings/{listing_id}", status_code=303)


def _owned(visitor: Visitor, listing_id: UUID) -> Any:
    """The listing if the visitor owns it (or is an admin); 404 otherwise, like the API."""
    actor = visitor.require()
    listing = visitor.container.listings.get(listing_id, viewer=actor)
    if listing.owner_id != actor.id and actor.role != "admin":
        raise NotFoundError("listing_not_found", f"listing {listing_id} not found")
    return listing


@router.get("/host/listings/{listing_id}", response_class=HTMLResponse)
def host_listing(request: Request, listing_id: UUID, visitor: VisitorDep) -> Response:
    listing = _owned(visitor, listing_id)
    user = visitor.container.identity.get_user(listing.owner_id)
    context = {"listing": listing, "spec": listing.spec, "verified": user.email_verified}
    return render(request, "host_listing.html", context | {"error": ""})


@router.post("/host/listings/{listing_id}/submit", response_class=HTMLResponse)
def submit(request: Request, listing_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    listing = _owned(visitor, listing_id)
    actor = visitor.require()
    try:
        with command_context(actor, request_id=visitor.request_id):
            position = visitor.container.listings.submit(actor, listing_id, visitor.now)
    except DomainError as error:
        user = visitor.container.identity.get_user(listing.owner_id)
        context = {"listing": listing, "spec": listing.spec, "verified": user.email_verified}
        context["error"] = error.detail
        return render(request, "host_listing.html", context, status_code=409)
    visitor.read_your_writes(position, "listings")
    return RedirectResponse(f"/host/listings/{listing_id}", status_code=303)


def _calendar(
    request: Request, visitor: Visitor, listing_id: UUID, errors: dict[str, str], status: int
) -> Response:
    listing = _owned(visitor, listing_id)
    calendar = visitor.container.listings.calendar(listing_id)
    blocks = [
        {
            "id": block_id,
            "start": date.fromordinal(block["keys"][0]).isoformat(),
            "end": date.fromordinal(block["keys"][-1]).isoformat(),
            "reason": block["reason"],
        }
        for block_id, block in calendar.blocks.items()
        if listing.unit != "hour" and block["keys"]
    ]
    context = {
        "listing": listing,
        "spec": listing.spec,
        "weeks": calendar_weeks(visitor, listing_id, listing.spec),
        "blocks": blocks,
        "overrides": dict(sorted(listing.price_overrides.items())),
        "currency": listing.currency,
        "errors": errors,
        "values": dict(getattr(request.state, "_web_values", {})),
    } | host_calendar_sync.sync_context(visitor, listing_id)
    return render(request, "host_calendar.html", context, status_code=status)


@router.get("/host/listings/{listing_id}/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, listing_id: UUID, visitor: VisitorDep) -> Response:
    return _calendar(request, visitor, listing_id, {}, 200)


@router.post("/host/listings/{listing_id}/calendar", response_class=HTMLResponse)
def calendar_change(
    request: Request, listing_id: UUID, visitor: VisitorDep, form: FormDep
) -> Response:
    """One form per action: block, unblock, set_price, clear_price."""
    listing = _owned(visitor, listing_id)
    actor = visitor.require()
    listings = visitor.container.listings
    action = form.get("action", "")
    errors: dict[str, str] = {}
    position = 0
    try:
        with command_context(actor, request_id=visitor.request_id):
            if action == "block":
                start, end = form.get("block_start", ""), form.get("block_end", "")
                if not start or not end:
                    errors["block_start"] = "Pick the first and the day after the last."
                else:
                    reason = form.get("block_reason", "")[:500]
                    _, position = listings.add_block(
                        actor, listing_id, start, end, reason, visitor.now
                    )
            elif action == "unblock":
                block_id = UUID(form["block_id"])
                position = listings.remove_block(actor, listing_id, block_id, visitor.now)
            elif action in ("set_price", "clear_price"):
                day = date.fromisoformat(form.get("price_date", ""))
                if action == "clear_price":
                    position = listings.clear_price(actor, listing_id, day, visitor.now)
                else:
                    amount = minor_units(form.get("price_amount", ""), listing.currency)
                    if amount is None:
                        errors["price_amount"] = "Enter a price, e.g. 95 or 95.50."
                    else:
                        position = listings.set_price(actor, listing_id, day, amount, visitor.now)
    except (ValueError, KeyError):
        errors["price_date" if "price" in action else "block_start"] = "Enter a valid date."
    except DomainError as error:
        errors["price_amount" if "price" in action else "block_start"] = error.detail
    if errors:
        request.state._web_values = form
        return _calendar(request, visitor, listing_id, errors, 422)
    visitor.read_your_writes(position, "availability", "listings")
    return RedirectResponse(f"/host/listings/{listing_id}/calendar", status_code=303)


@router.post("/host/listings/{listing_id}/calendar-feeds", response_class=HTMLResponse)
def add_feed(request: Request, listing_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    """Imports an external iCal feed (host_calendar_sync); errors keep the input."""
    _owned(visitor, listing_id)
    position, errors = host_calendar_sync.add_feed(visitor, listing_id, form)
    if errors:
        request.state._web_values = form
        return _calendar(request, visitor, listing_id, errors, 422)
    visitor.read_your_writes(position, "calendar_feeds")
    return host_calendar_sync.back(listing_id)


@router.post("/host/requests/{booking_id}", response_class=HTMLResponse)
def answer_request(
    request: Request, booking_id: UUID, visitor: VisitorDep, form: FormDep
) -> Response:
    """Approve or decline a booking request (the API's approve / decline)."""
    actor = visitor.require()
    bookings = visitor.container.bookings
    with command_context(actor, request_id=visitor.request_id):
        if form.get("decision") == "approve":
            position = bookings.approve(actor, booking_id, visitor.now)
        else:
            reason = form.get("reason", "")[:2000] or "declined by the owner"
            position = bookings.decline(actor, booking_id, reason, visitor.now)
    visitor.read_your_writes(position, "bookings")
    return RedirectResponse("/host", status_code=303)
