"""The admin's disputes (/admin/disputes): the queue (undecided first, oldest first, with SLA
due times and overdue flags) and a dispute's page with its evidence, the parties' responses,
what the booking's payment still allows, assign-to-me and the resolution form — the disputes
use case the admin API uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import command_context
from application.dispute_timeline import dispute_timeline
from domain.dispute import MAX_TEXT, OUTCOMES, PARTIES
from domain.errors import DomainError
from domain.money import Money, minor_units
from interfaces.web.paging import PAGE_SIZE, pager, read_cursor
from interfaces.web.routing import PageRoute, status_of
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render
from projections.disputes import LIVE, STATUSES, dispute_row_public, queue_filters
from projections.keyset import keyset_page
from projections.listings import utc

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ASSIGNED = {"": "Anyone or nobody", "me": "Me", "none": "Nobody"}
OVERDUE = {"": "Any", "yes": "Overdue", "no": "Not overdue"}
DUE_CHOICES = {"24": "in 24 hours", "48": "in 48 hours", "72": "in 3 days", "168": "in 7 days"}


@router.get("/admin/disputes", response_class=HTMLResponse)
def queue(
    request: Request,
    visitor: VisitorDep,
    status: str = LIVE,
    assigned: str = "",
    overdue: str = "",
    cursor: str = "",
) -> Response:
    """The queue oldest first, 50 a page, filtered by status, assignee (me, nobody) and
    SLA (overdue or not) as `GET /admin/disputes` is."""
    actor = visitor.require_admin()
    status = status if status in (LIVE, *STATUSES) else LIVE
    assigned = assigned if assigned in ASSIGNED else ""
    overdue = overdue if overdue in OVERDUE else ""
    bounds = read_cursor(cursor)
    container = visitor.container
    now = utc(visitor.now) or visitor.now
    table = container.runner.tables("disputes")["disputes"]
    where = queue_filters(
        table, now=now, status=status,
        assigned_to=actor.id if assigned == "me" else None, unassigned=assigned == "none",
        overdue={"yes": True, "no": False}.get(overdue),
    )  # fmt: skip
    with container.views.connect() as conn:
        page = keyset_page(
            conn, table, where, (table.c.opened_at, table.c.id), limit=PAGE_SIZE,
            after=bounds.after, before=bounds.before,
        )  # fmt: skip
    context = {
        "rows": [dispute_row_public(r, now) for r in page.rows],
        "pages": pager(request, page),
        "status": status,
        "statuses": (LIVE, *STATUSES),
        "assigned": assigned,
        "assigned_choices": ASSIGNED,
        "overdue": overdue,
        "overdue_choices": OVERDUE,
    }
    return render(request, "admin_disputes.html", context)


def _dispute_page(
    request: Request,
    visitor: Visitor,
    dispute_id: UUID,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 422,
) -> Response:
    actor = visitor.require_admin()
    container = visitor.container
    dispute = container.disputes.get(actor, dispute_id)
    booking: Any = container.store.load(dispute.booking_id, "booking")
    refundable, deposit = container.disputes.limits(booking)
    context = {
        "d": dispute,
        "timeline": dispute_timeline(container.store, dispute),
        "tz": str(booking.timezone),
        "due_choices": DUE_CHOICES,
        "refundable": refundable,
        "deposit": deposit,
        "outcomes": OUTCOMES,
        "values": values,
        "errors": errors,
    }
    return render(request, "admin_dispute.html", context, status_code=status if errors else 200)


@router.get("/admin/disputes/{dispute_id}", response_class=HTMLResponse)
def dispute_page(request: Request, dispute_id: UUID, visitor: VisitorDep) -> Response:
    return _dispute_page(request, visitor, dispute_id, {"outcome": "split", "due_in": "48"}, {})


@router.post("/admin/disputes/{dispute_id}/assign", response_class=HTMLResponse)
def assign(dispute_id: UUID, visitor: VisitorDep, _form: FormDep) -> Response:
    """Assigns the dispute to the signed-in admin (it goes under review)."""
    actor = visitor.require_admin()
    with command_context(actor, request_id=visitor.request_id):
        position = visitor.container.disputes.assign(actor, dispute_id, None, visitor.now)
    visitor.read_your_writes(position, "disputes")
    return RedirectResponse(f"/admin/disputes/{dispute_id}", status_code=303)


@router.post("/admin/disputes/{dispute_id}/resolve", response_class=HTMLResponse)
def resolve(request: Request, dispute_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    """Decides within what the payment allows; the refund and deposit capture move through
    the payment commands. A refused decision comes back with the input kept."""
    actor = visitor.require_admin()
    disputes = visitor.container.disputes
    booking: Any = visitor.container.store.load(
        disputes.get(actor, dispute_id).booking_id, "booking"
    )
    currency = str(booking.quote["currency"])
    errors: dict[str, str] = {}
    outcome = form.get("outcome", "")
    if outcome not in OUTCOMES:
        errors["outcome"] = "Pick an outcome."
    # Empty moves nothing (0); None is what is not an amount in the currency.
    refund_text, deposit_text = form.get("refund", ""), form.get("deposit", "")
    refund = minor_units(refund_text, currency) if refund_text else 0
    deposit = minor_units(deposit_text, currency) if deposit_text else 0
    if refund is None:
        errors["refund"] = "Enter an amount, e.g. 40 or 40.50, or leave it empty."
    if deposit is None:
        errors["deposit"] = "Enter an amount, e.g. 40 or 40.50, or leave it empty."
    note = form.get("note", "")[:4000]
    if not note:
        errors["note"] = "Say why: both parties read it."
    if not errors:
        try:
            with command_context(actor, request_id=visitor.request_id):
                position = disputes.resolve(
                    actor, dispute_id, outcome=outcome,
                    refund_to_renter=Money(refund, currency) if refund else None,
                    deposit_to_owner=Money(deposit, currency) if deposit else None,
                    note=note, at=visitor.now,
                )  # fmt: skip
        except DomainError as error:
            errors["form"] = error.detail
    if errors:
        return _dispute_page(request, visitor, dispute_id, form, errors)
    visitor.read_your_writes(position, "disputes")
    return RedirectResponse("/admin/disputes", status_code=303)


@router.post("/admin/disputes/{dispute_id}/request-information", response_class=HTMLResponse)
def request_information(
    request: Request, dispute_id: UUID, visitor: VisitorDep, form: FormDep
) -> Response:
    """Asks the renter or the owner a question, due after the hours picked (the API's
    `POST /admin/disputes/{id}/request-information`); they answer on their booking page."""
    actor = visitor.require_admin()
    errors: dict[str, str] = {}
    status = 422
    to, question, due_in = form.get("to", ""), form.get("question", ""), form.get("due_in", "")
    if to not in PARTIES:
        errors["to"] = "Pick the renter or the owner."
    if not question:
        errors["question"] = "Write the question."
    elif len(question) > MAX_TEXT:
        errors["question"] = f"At most {MAX_TEXT} characters."
    if due_in not in DUE_CHOICES:
        errors["due_in"] = "Pick when the answer is due."
    if not errors:
        try:
            with command_context(actor, request_id=visitor.request_id):
                position = visitor.container.disputes.request_information(
                    actor, dispute_id, to=to, question=question,
                    due_at=visitor.now + timedelta(hours=int(due_in)), at=visitor.now,
                )  # fmt: skip
            visitor.read_your_writes(position, "disputes")
            return RedirectResponse(f"/admin/disputes/{dispute_id}", status_code=303)
        except DomainError as error:
            errors["ask"] = error.detail
            status = status_of(error)
    return _dispute_page(request, visitor, dispute_id, {"outcome": "split"} | form, errors, status)
