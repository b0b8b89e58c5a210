"""The owner's dashboard (/host/dashboard?from=&to=): revenue (gross, fees, net), payouts,
occupancy and rating per listing, upcoming check-ins and check-outs and the requests waiting
for an answer — the same report as `GET /me/dashboard`, read from the views."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from interfaces.web.listing_view import listing_title, listing_zones
from interfaces.web.routing import PageRoute
from interfaces.web.session import Visitor, VisitorDep
from interfaces.web.templating import render
from projections.dashboard_report import owner_dashboard

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DEFAULT_DAYS = 30
MAX_DAYS = 366
FromQuery = Annotated[str, Query(alias="from")]
DASHBOARD_VIEWS = ("analytics", "availability", "bookings", "payments", "reviews")


def day_range(frm: str, to: str, today: date, max_days: int) -> tuple[date, date, dict[str, str]]:
    """[from, to) as the API reads it (default: the last 30 days, today included); on bad
    input the default range and the field's error, so the page still shows something."""
    errors: dict[str, str] = {}
    default = (today + timedelta(days=1) - timedelta(days=DEFAULT_DAYS), today + timedelta(1))
    try:
        start = date.fromisoformat(frm) if frm else None
        end = date.fromisoformat(to) if to else None
    except ValueError:
        return (*default, {"from": "Enter dates as YYYY-MM-DD."})
    end = end or (start + timedelta(days=DEFAULT_DAYS) if start else default[1])
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        errors["to"] = "The end must be after the start."
    elif (end - start).days > max_days:
        errors["to"] = f"Pick at most {max_days} days."
    return (*default, errors) if errors else (start, end, errors)


def _titles(visitor: Visitor, rows: list[dict[str, Any]]) -> dict[str, str]:
    return {str(r["listing_id"]): listing_title(visitor, UUID(str(r["listing_id"]))) for r in rows}


@router.get("/host/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, visitor: VisitorDep, frm: FromQuery = "", to: str = "") -> Response:
    actor = visitor.require()
    container = visitor.container
    start, end, errors = day_range(frm, to, visitor.now.date(), MAX_DAYS)
    views = {name: container.runner.tables(name) for name in DASHBOARD_VIEWS}
    with container.views.connect() as conn:
        report = owner_dashboard(conn, views, actor.id, start, end, visitor.now.date())
    upcoming = report["upcoming"]
    bookings = upcoming["check_ins"] + upcoming["check_outs"] + report["pending_requests"]["data"]
    context = {
        "report": report,
        "start": start,
        "end": end,
        "titles": _titles(visitor, bookings),
        "zones": listing_zones(visitor, bookings),  # hourly bookings in local time
        "values": {"from": frm or start.isoformat(), "to": to or end.isoformat()},
        "errors": errors,
    }
    return render(request, "host_dashboard.html", context, status_code=422 if errors else 200)
