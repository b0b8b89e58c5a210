"""The admin's reports and promotions: marketplace analytics (/admin/analytics with from, to
and granularity, the report of `GET /admin/analytics`) and every coupon (/admin/coupons:
list with redemption counts, create platform- or owner-funded, deactivate)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import command_context
from interfaces.web.host_coupons import (
    CURRENCIES,
    DEFAULTS,
    SCOPES,
    coupons_of,
    create_coupon,
    terms_from_form,
)
from interfaces.web.host_dashboard import day_range
from interfaces.web.paging import PAGE_SIZE, pager, read_cursor
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render
from projections.coupons import coupon_row
from projections.dashboard_report import marketplace_analytics
from projections.keyset import keyset_page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MAX_DAYS = {"day": 366, "week": 5 * 366, "month": 5 * 366}
FromQuery = Annotated[str, Query(alias="from")]


@router.get("/admin/analytics", response_class=HTMLResponse)
def analytics(
    request: Request,
    visitor: VisitorDep,
    frm: FromQuery = "",
    to: str = "",
    granularity: str = "day",
) -> Response:
    """GMV, fees and take rate per currency, bookings, cancellations, disputes, new users
    and listings: in total, per day / week / month, per category and per city."""
    visitor.require_admin()
    errors: dict[str, str] = {}
    if granularity not in MAX_DAYS:
        granularity, errors["granularity"] = "day", "Pick day, week or month."
    start, end, range_errors = day_range(frm, to, visitor.now.date(), MAX_DAYS[granularity])
    errors |= range_errors
    container = visitor.container
    with container.views.connect() as conn:
        report = marketplace_analytics(
            conn, {"analytics": container.runner.tables("analytics")}, start, end, granularity
        )
    context = {
        "report": report,
        "start": start,
        "end": end,
        "granularity": granularity,
        "values": {"from": frm or start.isoformat(), "to": to or end.isoformat()},
        "errors": errors,
    }
    return render(request, "admin_analytics.html", context, status_code=422 if errors else 200)


def _page(
    request: Request,
    visitor: Visitor,
    values: dict[str, str],
    errors: dict[str, str],
    cursor: str = "",
) -> Response:
    """Every coupon newest first, 50 a page, with the create form."""
    visitor.require_admin()
    bounds = read_cursor(cursor)
    container = visitor.container
    table = container.runner.tables("coupons")["coupons"]
    with container.views.connect() as conn:
        page = keyset_page(
            conn, table, [], (table.c.created_at, table.c.id), descending=True,
            limit=PAGE_SIZE, after=bounds.after, before=bounds.before,
        )  # fmt: skip
    context = {
        "coupons": [coupon_row(r) for r in page.rows],
        "pages": pager(request, page),
        "listing_options": [("", "—")],
        "scopes": SCOPES,
        "currency_options": [(c, c) for c in CURRENCIES],
        "values": values,
        "errors": errors,
        "action": "/admin/coupons",
        "admin": True,
    }
    return render(request, "host_coupons.html", context, status_code=422 if errors else 200)


@router.get("/admin/coupons", response_class=HTMLResponse)
def coupons_page(request: Request, visitor: VisitorDep, cursor: str = "") -> Response:
    return _page(request, visitor, DEFAULTS | {"funded_by": "platform"}, {}, cursor)


@router.post("/admin/coupons", response_class=HTMLResponse)
def create(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """Platform-funded (the default) or owner-funded for the owner named by id."""
    actor = visitor.require_admin()
    funded_by = form.get("funded_by", "platform")
    owner_id: UUID | None = None
    errors: dict[str, str] = {}
    if funded_by == "owner":
        try:
            owner_id = UUID(form.get("owner_id", ""))
        except ValueError:
            errors["owner_id"] = "An owner-funded coupon names its owner's id."
    elif funded_by != "platform":
        errors["funded_by"] = "Pick who pays."
    code, terms, form_errors = terms_from_form(
        form, funded_by=funded_by if not errors else "platform", owner_id=owner_id
    )
    errors |= form_errors
    position = 0
    if terms is not None and not errors:
        position, errors = create_coupon(visitor, actor, code, terms)
    if errors:
        return _page(request, visitor, form, errors)
    visitor.read_your_writes(position, "coupons")
    return RedirectResponse("/admin/coupons", status_code=303)


@router.post("/admin/coupons/{coupon_id}/deactivate", response_class=HTMLResponse)
def deactivate(coupon_id: UUID, visitor: VisitorDep, _form: FormDep) -> Response:
    actor = visitor.require_admin()
    with command_context(actor, request_id=visitor.request_id):
        position = coupons_of(visitor).deactivate(actor, coupon_id, visitor.now)
    visitor.read_your_writes(position, "coupons")
    return RedirectResponse("/admin/coupons", status_code=303)
