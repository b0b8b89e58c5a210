"""A trip's stay: check-in and check-out with a condition report (items with photos),
and the review after the stay (double-blind) — the same use cases as
`/api/v1/bookings/{id}/check-in` and `/reviews`; their rules (windows, statuses, once per
side) come back as the message next to the form. Disputes are in trip_disputes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from application.context import Actor, command_context
from domain.booking import Booking
from domain.errors import DomainError
from domain.review import CATEGORIES
from interfaces.web.host import MAX_PHOTO_BYTES
from interfaces.web.listing_view import listing_title
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

REPORT_ROWS = 3  # condition report lines offered by the form
ITEM_STATUSES = ("ok", "damaged", "missing")
STEPS = {"check-in": "Check in", "check-out": "Check out"}
STARS = ("1", "2", "3", "4", "5")


async def get_item_photos(request: Request) -> dict[int, bytes]:
    """The photo of each report line (`photo_0`, `photo_1`...; empty inputs skipped)."""
    form = await request.form()
    found: dict[int, bytes] = {}
    for i in range(REPORT_ROWS):
        part = form.get(f"photo_{i}")
        if isinstance(part, UploadFile) and part.filename:
            data = await part.read(MAX_PHOTO_BYTES + 1)
            if data:
                found[i] = data
    return found


def _base(visitor: Visitor, booking: Booking) -> dict[str, Any]:
    return {"booking": booking, "title": listing_title(visitor, booking.listing_id), "error": ""}


@router.get("/trips/{booking_id}/check-in", response_class=HTMLResponse)
def check_in_page(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    return _stay_form(request, booking_id, "check-in", visitor)


@router.get("/trips/{booking_id}/check-out", response_class=HTMLResponse)
def check_out_page(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    return _stay_form(request, booking_id, "check-out", visitor)


@router.post("/trips/{booking_id}/check-in", response_class=HTMLResponse)
def check_in(
    request: Request,
    booking_id: UUID,
    visitor: VisitorDep,
    form: FormDep,
    photos: dict[int, bytes] = Depends(get_item_photos),
) -> Response:
    return _record_stay(request, booking_id, "check-in", visitor, form, photos)


@router.post("/trips/{booking_id}/check-out", response_class=HTMLResponse)
def check_out(
    request: Request,
    booking_id: UUID,
    visitor: VisitorDep,
    form: FormDep,
    photos: dict[int, bytes] = Depends(get_item_photos),
) -> Response:
    return _record_stay(request, booking_id, "check-out", visitor, form, photos)


def _stay_form(request: Request, booking_id: UUID, step: str, visitor: Visitor) -> Response:
    _, booking = visitor.booking(booking_id)
    context = _base(visitor, booking) | {"step": step, "values": {}, "statuses": ITEM_STATUSES}
    return render(request, "stay_form.html", context | {"rows": range(REPORT_ROWS)})


def _record_stay(
    request: Request,
    booking_id: UUID,
    step: str,
    visitor: Visitor,
    form: dict[str, str],
    photos: dict[int, bytes],
) -> Response:
    """Uploads each line's photo (the media use case), then checks in or out."""
    actor, booking = visitor.booking(booking_id)
    container = visitor.container
    error = ""
    items: list[dict[str, Any]] = []
    if any(len(p) > MAX_PHOTO_BYTES for p in photos.values()):
        error = "Each photo is at most 10 MB."
    elif photos and container.media is None:
        error = "Photo uploads are not configured."
    try:
        with command_context(actor, request_id=visitor.request_id):
            for i in range(REPORT_ROWS):
                name = form.get(f"name_{i}", "")[:200]
                if error or not name:
                    continue
                status = form.get(f"status_{i}", "ok")
                photo_ids = []
                if i in photos and container.media is not None:
                    photo_ids = [str(container.media.upload(actor, photos[i], visitor.now)[0].id)]
                note = form.get(f"note_{i}", "")[:2000]
                items.append({"name": name, "status": status, "note": note, "photo_ids": photo_ids})
            if not error:
                record = (
                    container.stays.check_in if step == "check-in" else container.stays.check_out
                )
                position = record(actor, booking_id, items or None, visitor.now)
                visitor.read_your_writes(position, "bookings")
                return RedirectResponse(f"/trips/{booking_id}", status_code=303)
    except DomainError as problem:
        error = problem.detail
    context = _base(visitor, booking) | {"step": step, "values": form, "statuses": ITEM_STATUSES}
    context |= {"rows": range(REPORT_ROWS), "error": error}
    return render(request, "stay_form.html", context, status_code=422)


def _review_context(visitor: Visitor, actor: Actor, booking: Booking) -> dict[str, Any]:
    window = visitor.container.reviews.for_booking(actor, booking.id)
    side = "renter" if booking.renter_id == actor.id else "owner"
    mine = [r for r in window["reviews"] if r["side"] == side]
    context = {"window": window, "mine": mine, "values": {}, "errors": {}}
    return _base(visitor, booking) | context | {"categories": CATEGORIES[side]}


@router.get("/trips/{booking_id}/review", response_class=HTMLResponse)
def review_page(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    actor, booking = visitor.booking(booking_id)
    return render(request, "review.html", _review_context(visitor, actor, booking))


@router.post("/trips/{booking_id}/review", response_class=HTMLResponse)
def submit_review(
    request: Request, booking_id: UUID, visitor: VisitorDep, form: FormDep
) -> Response:
    """The overall rating, the comment and the categories the viewer's side rates (each
    1-5, optional), as `POST /bookings/{id}/reviews` takes them."""
    actor, booking = visitor.booking(booking_id)
    side = "renter" if booking.renter_id == actor.id else "owner"
    rating, comment = form.get("rating", ""), form.get("comment", "")[:2000]
    errors: dict[str, str] = {}
    if rating not in STARS:
        errors["rating"] = "Pick a rating from 1 to 5 stars."
    if not comment:
        errors["comment"] = "Say a few words about the stay."
    categories: dict[str, int] = {}
    for name in CATEGORIES[side]:
        value = form.get(f"category_{name}", "")
        if value in STARS:
            categories[name] = int(value)
        elif value:
            errors[f"category_{name}"] = "Pick from 1 to 5 stars, or leave it out."
    if not errors:
        try:
            with command_context(actor, request_id=visitor.request_id):
                _, position = visitor.container.reviews.submit(
                    actor, booking_id, rating=int(rating), comment=comment,
                    category_ratings=categories, at=visitor.now,
                )  # fmt: skip
            visitor.read_your_writes(position, "reviews")
            return RedirectResponse(f"/trips/{booking_id}/review", status_code=303)
        except DomainError as problem:
            errors["form"] = problem.detail
    context = _review_context(visitor, actor, booking) | {"values": form, "errors": errors}
    return render(request, "review.html", context, status_code=422)
