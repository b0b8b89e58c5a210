"""The admin's operations pages: user search, the audit timeline of any stream (a listing,
a payment, a user… — bookings keep their own page), projections with their lag and a
rebuild button, and the ledger's balances with its verification. Each reads what the admin
API reads (identity, the event store, the runner, the ledger views)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.email_lookup import find_user
from application.ledger import LedgerProcess, verify_process
from domain.errors import DomainError, NotFoundError
from interfaces.web.admin import _end_of_shown_unit, _shown, _utc, event_page, timeline
from interfaces.web.paging import PAGE_SIZE, pager, read_cursor
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render
from projections.keyset import keyset_page

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _exact_id(visitor: Visitor, q: str) -> UUID | None:
    """The user an exact id or email names (an email through the keyed email index, as
    sign-in finds accounts)."""
    try:
        return UUID(q)
    except ValueError:
        user = find_user(visitor.container.store, q) if "@" in q else None
        return user.id if user is not None else None


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, visitor: VisitorDep, q: str = "", cursor: str = "") -> Response:
    """Users by id, email or name (everyone without a query): an exact id or email first,
    then names containing the text in name order, 50 a page; roles, status, verified email."""
    visitor.require_admin()
    q = q.strip()[:200]
    bounds = read_cursor(cursor)
    container = visitor.container
    exact = _exact_id(visitor, q) if q and not cursor else None
    table = container.runner.tables("profiles")["profiles"]
    where = []
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(table.c.name.ilike(pattern, escape="\\"))
    with container.views.connect() as conn:
        page = keyset_page(
            conn, table, where, (table.c.name, table.c.id), limit=PAGE_SIZE,
            after=bounds.after, before=bounds.before,
        )  # fmt: skip
    ids = [exact] if exact is not None else []
    ids += [row["id"] for row in page.rows if row["id"] != exact]
    found = []
    for user_id in ids:
        try:
            found.append(container.identity.get_user(user_id))
        except DomainError:
            continue  # a stale view row or an id that is not a user
    context = {"q": q, "users": found, "pages": pager(request, page)}
    return render(request, "admin_users.html", context)


@router.get("/admin/audit", response_class=HTMLResponse)
def open_stream(visitor: VisitorDep, id: str = "") -> Response:
    """The "open an audit timeline" box: any stream id (booking, listing, payment…)."""
    visitor.require_admin()
    try:
        return RedirectResponse(f"/admin/audit/{UUID(id.strip())}", status_code=303)
    except ValueError:
        raise NotFoundError("stream_not_found", "that is not an id") from None


@router.get("/admin/audit/{aggregate_id}", response_class=HTMLResponse)
def stream_audit(
    request: Request,
    aggregate_id: UUID,
    visitor: VisitorDep,
    at: str = "",
    version: str = "",
    cursor: str = "",
) -> Response:
    """Any stream's events with who, when and why, and its state at an instant or version
    (the generalisation of the booking page, with every public field of the aggregate)."""
    visitor.require_admin()
    events = timeline(visitor, aggregate_id, kind="stream")
    kind = events[0]["type"].split(".")[0].lower()
    error, chosen = "", events[-1]["version"]
    if at:
        try:
            instant = _end_of_shown_unit(at, _utc(datetime.fromisoformat(at)))
            before = [e for e in events if e["at"] <= instant]
            chosen = before[-1]["version"] if before else 0
            error = "" if before else f"The {kind} did not exist yet at that instant."
        except ValueError:
            error = "Enter a date and time."
    elif version.isdigit():
        chosen = min(max(int(version), 1), events[-1]["version"])
    state: dict[str, str] = {}
    if not error:
        aggregate: Any = visitor.container.store.repository.get(aggregate_id, version=chosen)
        state = {k: _shown(k, v) for k, v in vars(aggregate).items() if not k.startswith("_")}
    picked = next((e for e in events if e["version"] == chosen), events[-1])
    shown, pages = event_page(request, events, picked["version"], cursor)
    context = {
        "kind": kind,
        "booking_id": aggregate_id,
        "events": shown,
        "pages": pages,
        "state": state,
        "chosen": chosen,
        "picked_at": picked["at"],
        "at_value": at or picked["at"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:23],
        "errors": {"at": error} if error else {},
    }
    return render(request, "admin_booking.html", context, status_code=422 if error else 200)


@router.get("/admin/projections", response_class=HTMLResponse)
def projections(request: Request, visitor: VisitorDep) -> Response:
    """Each view's position, lag (events and seconds) and status."""
    visitor.require_admin()
    rows = sorted(visitor.container.runner.status(), key=lambda r: r["name"])
    return render(request, "admin_projections.html", {"rows": rows})


@router.post("/admin/projections/{name}/rebuild", response_class=HTMLResponse)
def rebuild(name: str, visitor: VisitorDep, _form: FormDep) -> Response:
    """Rebuilds the view into fresh tables while the live one serves, then swaps them in;
    answers when done, as the admin API does."""
    visitor.require_admin()
    runner = visitor.container.runner
    if name not in {s["name"] for s in runner.status()}:
        raise NotFoundError("projection_not_found", f"no projection {name!r}")
    runner.rebuild(name)
    return RedirectResponse(f"/admin/projections?rebuilt={name}", status_code=303)


@router.get("/admin/ledger", response_class=HTMLResponse)
def ledger(
    request: Request,
    visitor: VisitorDep,
    verify: str = "",
    currency: str = "",
    prefix: str = "",
    cursor: str = "",
) -> Response:
    """Balances per account and currency in account order, 50 a page, filtered by currency
    and account prefix as `GET /admin/ledger/accounts`; `verify=1` regenerates the ledger
    from the payment events and compares it with the recorded entries (read-only: a GET)."""
    visitor.require_admin()
    container = visitor.container
    errors: dict[str, str] = {}
    currency, prefix = currency.strip().upper(), prefix.strip()[:200]
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        errors["currency"] = "A three-letter currency code, e.g. EUR."
    bounds = read_cursor(cursor)
    table = container.runner.tables("ledger")["balances"]
    where = [] if errors or not currency else [table.c.currency == currency]
    if prefix:
        where.append(table.c.account.startswith(prefix, autoescape=True))
    with container.views.connect() as conn:
        page = keyset_page(
            conn, table, where, (table.c.account, table.c.currency), limit=PAGE_SIZE,
            after=bounds.after, before=bounds.before,
        )  # fmt: skip
    result: dict[str, Any] | None = None
    if verify:
        result = verify_process(container.ledger or LedgerProcess(container.store)).as_dict()
    context = {
        "accounts": [dict(r) for r in page.rows],
        "pages": pager(request, page),
        "result": result,
        "values": {"currency": currency, "prefix": prefix},
        "errors": errors,
    }
    return render(request, "admin_ledger.html", context, status_code=422 if errors else 200)
