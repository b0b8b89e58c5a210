"""The owner's coupons (/host/coupons): their list with redemption counts, a create form that
keeps what was typed and names each problem, and deactivate — the coupons use case the API's
`/me/coupons` uses (owner-funded, for the owner's own listings). The form parsing is shared
with the admin's coupon page."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import Actor, command_context
from application.coupons import Coupons
from domain.coupon_terms import CouponTerms
from domain.errors import ConflictError, DomainError
from domain.money import minor_units
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import env, money, render
from projections.coupons import list_coupons
from projections.listings import list_owner_listings

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SCOPES = {"all": "All my listings", "listing": "One listing", "first_booking": "First bookings"}
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "BRL", "AUD")


def coupons_of(visitor: Visitor) -> Coupons:
    coupons = visitor.container.coupons
    assert coupons is not None, "the container wires coupons"
    return coupons


def number(text: str) -> float | None:
    """A finite number, or None ("nan", "inf" and "1e400" are not amounts)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _count(text: str, errors: dict[str, str], name: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        errors[name] = "Enter a whole number of at least 1, or leave it empty."
        return None
    return int(text)


def terms_from_form(
    form: dict[str, str], *, funded_by: str, owner_id: UUID | None
) -> tuple[str, CouponTerms | None, dict[str, str]]:
    """(code, terms, field errors): each field checked here, then the domain's own rules."""
    errors: dict[str, str] = {}
    code = form.get("code", "")
    if not 3 <= len(code) <= 40:
        errors["code"] = "Use 3 to 40 characters."
    kind, currency = form.get("kind", ""), form.get("currency", "EUR")
    if currency not in CURRENCIES:
        errors["currency"] = "Pick a currency."
    percent_bp = amount = 0
    value = form.get("value", "")
    if kind == "percent":
        percent = number(value)
        percent_bp = round(percent * 100) if percent is not None and abs(percent) < 10**6 else 0
        if not 1 <= percent_bp <= 10_000:
            errors["value"] = "A percentage between 0.01 and 100."
    elif kind == "fixed":
        amount = minor_units(value, currency) or 0
        if not amount:
            errors["value"] = "Enter the amount off, e.g. 15 or 15.50."
    else:
        errors["kind"] = "Pick percent or fixed."
    minimum = 0
    if form.get("min_subtotal"):
        minimum = minor_units(form["min_subtotal"], currency) or 0
        if not minimum:
            errors["min_subtotal"] = "Enter an amount, or leave it empty."
    until = None
    if form.get("valid_until"):
        try:
            day = datetime.fromisoformat(form["valid_until"]).date()
            until = datetime.combine(day, time(), tzinfo=UTC)
        except ValueError:
            errors["valid_until"] = "Enter a date."
    max_redemptions = _count(form.get("max_redemptions", ""), errors, "max_redemptions")
    per_user = _count(form.get("per_user_limit", ""), errors, "per_user_limit")
    scope = form.get("scope", "all")
    listing_ids: tuple[UUID, ...] = ()
    if scope == "listing":
        try:
            listing_ids = (UUID(form.get("listing_id", "")),)
        except ValueError:
            errors["listing_id"] = "Pick the listing."
    elif scope not in SCOPES:
        errors["scope"] = "Pick where the coupon applies."
    if errors:
        return code, None, errors
    try:
        terms = CouponTerms(
            kind=kind,
            funded_by=funded_by,
            percent_bp=percent_bp,
            amount=amount,
            currency=currency if (amount or minimum) else None,
            min_subtotal=minimum,
            valid_until=until,
            max_redemptions=max_redemptions,
            per_user_limit=per_user,
            scope=scope,
            listing_ids=listing_ids,
            owner_id=owner_id,
        )
    except DomainError as error:
        return code, None, {"form": error.detail}
    return code, terms, {}


def create_coupon(
    visitor: Visitor, actor: Actor, code: str, terms: CouponTerms
) -> tuple[int, dict[str, str]]:
    """(position, errors): a taken code is the code field's error, other refusals the form's."""
    try:
        with command_context(actor, request_id=visitor.request_id):
            _, position = coupons_of(visitor).create(actor, code, terms, visitor.now)
    except ConflictError as error:
        return 0, {"code": error.detail}
    except DomainError as error:
        return 0, {"form": error.detail}
    return position, {}


def _page(
    request: Request, visitor: Visitor, values: dict[str, str], errors: dict[str, str]
) -> Response:
    actor = visitor.require()
    container = visitor.container
    with container.views.connect() as conn:
        coupons = list_coupons(conn, container.runner.tables("coupons"), created_by=actor.id)
        listings, _ = list_owner_listings(conn, container.runner.tables("listings"), actor.id, 100)
    context = {
        "coupons": coupons,
        "listings": listings,
        "scopes": SCOPES,
        "currency_options": [(c, c) for c in CURRENCIES],
        "listing_options": [("", "—")] + [(str(r["id"]), r["title"]) for r in listings],
        "values": values,
        "errors": errors,
        "action": "/host/coupons",
        "admin": False,
    }
    return render(request, "host_coupons.html", context, status_code=422 if errors else 200)


DEFAULTS = {"kind": "percent", "currency": "EUR", "per_user_limit": "1", "scope": "all"}


@router.get("/host/coupons", response_class=HTMLResponse)
def coupons_page(request: Request, visitor: VisitorDep) -> Response:
    return _page(request, visitor, DEFAULTS, {})


@router.post("/host/coupons", response_class=HTMLResponse)
def create(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    """An owner-funded coupon for the owner's listings (the API's `POST /me/coupons`)."""
    actor = visitor.require()
    code, terms, errors = terms_from_form(form, funded_by="owner", owner_id=actor.id)
    position = 0
    if terms is not None:
        position, errors = create_coupon(visitor, actor, code, terms)
    if errors:
        return _page(request, visitor, form, errors)
    visitor.read_your_writes(position, "coupons")
    return RedirectResponse("/host/coupons", status_code=303)


@router.post("/host/coupons/{coupon_id}/deactivate", response_class=HTMLResponse)
def deactivate(coupon_id: UUID, visitor: VisitorDep, _form: FormDep) -> Response:
    """Ends one of the owner's coupons; anyone else's is 404, as in the API."""
    actor = visitor.require()
    coupons = coupons_of(visitor)
    with command_context(actor, request_id=visitor.request_id):
        coupons.get(coupon_id, viewer=actor)
        position = coupons.deactivate(actor, coupon_id, visitor.now)
    visitor.read_your_writes(position, "coupons")
    return RedirectResponse("/host/coupons", status_code=303)


def describe(terms: dict[str, Any]) -> str:
    """ "25% off", "€15.00 off": what a renter gets."""
    if terms.get("kind") == "percent":
        return f"{terms.get('percent_bp', 0) / 100:g}% off"
    return f"{money(terms.get('amount'), terms.get('currency') or 'EUR')} off"


env.filters["coupon_terms"] = describe
