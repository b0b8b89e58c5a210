"""A trip's disputes, for its renter and its owner: opening one with what the API takes
(type, description, a claimed amount in the booking's currency, evidence links, photos from
the opener's condition reports or uploaded here, cited report items), the booking page's
view of each dispute (its timeline, the admin's questions to you) and the answer form — the
disputes use case behind `POST /bookings/{id}/disputes` and `/disputes/{id}/responses`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from application.context import Actor, command_context
from application.dispute_timeline import dispute_timeline
from domain.booking import Booking
from domain.dispute import MAX_EVIDENCE, MAX_TEXT, TYPES
from domain.errors import DomainError, NotFoundError
from domain.money import Money, minor_units
from interfaces.web.listing_view import listing_title
from interfaces.web.routing import PageRoute, status_of
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render
from projections.disputes import list_disputes

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NEW_PHOTOS = 3  # file inputs offered by the form
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # as the listing wizard's photos
# Which field a refusal of the use case belongs next to.
FIELD_OF = {
    "bad_dispute_type": "type",
    "description_required": "description",
    "description_too_long": "description",
    "bad_claimed_amount": "claimed_amount",
    "bad_evidence_url": "evidence",
    "too_much_evidence": "evidence",
    "unknown_media": "photos",
    "unknown_report_item": "cited_items",
    "too_many_cited_items": "cited_items",
    "message_required": "message",
    "message_too_long": "message",
}


def evidence_urls(text: str) -> list[str]:
    """One link per line; blank lines skipped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


async def get_new_photos(request: Request) -> list[bytes]:
    """The images sent in the `new_photos` inputs (empty ones skipped)."""
    form = await request.form()
    found = []
    for part in form.getlist("new_photos")[: NEW_PHOTOS + 1]:
        if isinstance(part, UploadFile) and part.filename:
            data = await part.read(MAX_PHOTO_BYTES + 1)
            if data:
                found.append(data)
    return found


def _report_choices(booking: Booking, side: str) -> tuple[list[str], list[str]]:
    """(item names of every report of the booking, the photos of the viewer's side)."""
    names: list[str] = []
    photos: list[str] = []
    for reports in (booking.check_ins, booking.check_outs):
        for role, record in reports.items():
            for item in (record.get("report") or {}).get("items", []):
                if item["name"] not in names:
                    names.append(item["name"])
                if role == side:
                    photos += [p for p in item.get("photo_ids", []) if p not in photos]
    return names, photos


def _form_page(
    request: Request,
    visitor: Visitor,
    actor: Actor,
    booking: Booking,
    values: dict[str, Any],
    errors: dict[str, str],
) -> Response:
    side = "renter" if booking.renter_id == actor.id else "owner"
    items, photos = _report_choices(booking, side)
    context = {
        "booking": booking,
        "title": listing_title(visitor, booking.listing_id),
        "types": TYPES,
        "currency": str(booking.quote["currency"]),
        "report_items": items,
        "report_photos": photos,
        "new_photos": range(NEW_PHOTOS),
        "values": values,
        "errors": errors,
        "max_text": MAX_TEXT,
    }
    return render(request, "dispute.html", context, status_code=422 if errors else 200)


@router.get("/trips/{booking_id}/dispute", response_class=HTMLResponse)
def dispute_page(request: Request, booking_id: UUID, visitor: VisitorDep) -> Response:
    actor, booking = visitor.booking(booking_id)
    return _form_page(request, visitor, actor, booking, {"cited": [], "photo_ids": []}, {})


async def get_choices(request: Request) -> dict[str, list[str]]:
    """The ticked report items and report photos (multi-valued fields)."""
    form = await request.form()
    return {
        "cited": [v for v in form.getlist("cited_items") if isinstance(v, str)][:100],
        "photo_ids": [v for v in form.getlist("photo_ids") if isinstance(v, str)][:100],
    }


@router.post("/trips/{booking_id}/dispute", response_class=HTMLResponse)
def open_dispute(
    request: Request,
    booking_id: UUID,
    visitor: VisitorDep,
    form: FormDep,
    choices: dict[str, list[str]] = Depends(get_choices),
    new_photos: list[bytes] = Depends(get_new_photos),
) -> Response:
    return _open(request, booking_id, visitor, dict(form) | choices, new_photos)


def _open(
    request: Request,
    booking_id: UUID,
    visitor: Visitor,
    values: dict[str, Any],
    new_photos: list[bytes],
) -> Response:
    """Checks the fields as the API's schema does, uploads new photos (the media use
    case), then opens the dispute; a refusal comes back next to its field."""
    actor, booking = visitor.booking(booking_id)
    container = visitor.container
    currency = str(booking.quote["currency"])
    errors: dict[str, str] = {}
    kind, description = values.get("type", ""), values.get("description", "")
    if kind not in TYPES:
        errors["type"] = "Pick what the dispute is about."
    if not description:
        errors["description"] = "Describe what went wrong."
    elif len(description) > MAX_TEXT:
        errors["description"] = f"At most {MAX_TEXT} characters."
    amount_text = values.get("claimed_amount", "")
    amount = minor_units(amount_text, currency) if amount_text else None
    if amount_text and not amount:
        errors["claimed_amount"] = (
            f"Enter an amount in {currency} above zero, e.g. 150 or 150.50, or leave it empty."
        )
    urls = evidence_urls(values.get("evidence", ""))
    if len(urls) > MAX_EVIDENCE:
        errors["evidence"] = f"At most {MAX_EVIDENCE} links."
    photo_ids: list[UUID] = []
    try:
        photo_ids = [UUID(p) for p in values["photo_ids"]]
    except ValueError:
        errors["photos"] = "Pick photos from your condition reports."
    if any(len(p) > MAX_PHOTO_BYTES for p in new_photos):
        errors["photos"] = "Each photo is at most 10 MB."
    elif new_photos and container.media is None:
        errors["photos"] = "Photo uploads are not configured."
    elif len(photo_ids) + len(new_photos) > MAX_EVIDENCE:
        errors["photos"] = f"At most {MAX_EVIDENCE} photos."
    if not errors:
        try:
            with command_context(actor, request_id=visitor.request_id):
                if container.media is not None:
                    for data in new_photos:
                        photo_ids.append(container.media.upload(actor, data, visitor.now)[0].id)
                _, position = container.disputes.open(
                    actor, booking_id, kind=kind, description=description,
                    claimed_amount=Money(amount, currency) if amount else None,
                    evidence=urls, at=visitor.now, cited_items=values["cited"],
                    photo_ids=photo_ids,
                )  # fmt: skip
            visitor.read_your_writes(position, "bookings", "disputes")
            return RedirectResponse(f"/trips/{booking_id}#disputes", status_code=303)
        except DomainError as problem:
            errors[FIELD_OF.get(problem.code, "form")] = problem.detail
    return _form_page(request, visitor, actor, booking, values, errors)


# -- the booking page's disputes ------------------------------------------------------------


def trip_disputes(visitor: Visitor, booking: Booking) -> list[dict[str, Any]]:
    """The booking's disputes as its viewer may see them: each with its timeline, the
    questions an admin asked the viewer and not yet answered, and whether the viewer can
    respond (the other party, or the party asked)."""
    actor = visitor.require()
    container = visitor.container
    with container.views.connect() as conn:
        rows, _ = list_disputes(
            conn, container.runner.tables("disputes"), now=visitor.now,
            booking_id=booking.id, limit=20,
        )  # fmt: skip
    shown = []
    for row in rows:
        dispute = container.disputes.get(actor, UUID(row["id"]))
        role = dispute.party_role(actor.id)
        asked = dispute.outstanding_requests(role) if role else []
        live = dispute.status in ("open", "under_review", "awaiting_information")
        can_respond = live and role is not None and (bool(asked) or role != dispute.opener_role)
        shown.append(
            {
                "d": dispute,
                "timeline": dispute_timeline(container.store, dispute),
                "asked": asked,
                "can_respond": can_respond,
            }
        )
    return shown


def disputes_context(visitor: Visitor, booking: Booking) -> dict[str, Any]:
    """What the booking page shows of its disputes."""
    return {"disputes": trip_disputes(visitor, booking), "dispute_values": {}, "dispute_errors": {}}


@router.post("/trips/{booking_id}/disputes/{dispute_id}/respond", response_class=HTMLResponse)
def respond(
    request: Request, booking_id: UUID, dispute_id: UUID, visitor: VisitorDep, form: FormDep
) -> Response:
    """The other party's response to the claim, or a party's answer to an admin's question
    (the API's `POST /disputes/{id}/responses`); a refusal comes back next to the field."""
    actor, booking = visitor.booking(booking_id)
    disputes = visitor.container.disputes
    dispute = disputes.get(actor, dispute_id)
    if dispute.booking_id != booking.id:
        raise NotFoundError("dispute_not_found", f"dispute {dispute_id} not found")
    message = form.get("message", "")
    urls = evidence_urls(form.get("evidence", ""))
    errors: dict[str, str] = {}
    if not message:
        errors["message"] = "Write your answer."
    elif len(message) > MAX_TEXT:
        errors["message"] = f"At most {MAX_TEXT} characters."
    if len(urls) > MAX_EVIDENCE:
        errors["evidence"] = f"At most {MAX_EVIDENCE} links."
    status = 422
    if not errors:
        try:
            with command_context(actor, request_id=visitor.request_id):
                position = disputes.respond(actor, dispute_id, message, urls, visitor.now)
            visitor.read_your_writes(position, "disputes")
            return RedirectResponse(f"/trips/{booking_id}#disputes", status_code=303)
        except DomainError as problem:
            errors[FIELD_OF.get(problem.code, "form")] = problem.detail
            status = status_of(problem)
    shown = next(x for x in trip_disputes(visitor, booking) if x["d"].id == dispute_id)
    context = {
        "booking": booking,
        "title": listing_title(visitor, booking.listing_id),
        "x": shown,
        "dispute_values": dict(form) | {"dispute_id": str(dispute_id)},
        "dispute_errors": errors,
    }
    return render(request, "dispute_respond.html", context, status_code=status)
