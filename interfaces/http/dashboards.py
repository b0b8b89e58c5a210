"""The owner dashboard (`GET /me/dashboard`) and the marketplace analytics
(`GET /admin/analytics`), read from the views only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from interfaces.http.dashboard_schemas import AnalyticsPublic, DashboardPublic
from interfaces.http.deps import AdminDep, ContainerDep, Now, PrincipalDep
from interfaces.http.positions import min_position
from interfaces.http.problems import ProblemError
from interfaces.http.schemas_common import problem_responses
from projections.dashboard_report import marketplace_analytics, owner_dashboard

router = APIRouter(tags=["dashboards"], responses=problem_responses(401, 403, 422))

DEFAULT_DAYS = 30
MAX_DAYS = {"day": 366, "week": 5 * 366, "month": 5 * 366}
DASHBOARD_VIEWS = ("analytics", "availability", "bookings", "payments", "reviews")

FromDay = Annotated[
    date | None, Query(alias="from", description="First UTC day (default: 29 days ago).")
]
ToDay = Annotated[
    date | None, Query(alias="to", description="The UTC day after the last (default: tomorrow).")
]


def day_range(frm: date | None, to: date | None, today: date, max_days: int) -> tuple[date, date]:
    """[from, to): by default the last 30 days, today included; 422 when empty or too long."""
    to = to or (frm + timedelta(days=DEFAULT_DAYS) if frm else today + timedelta(days=1))
    frm = frm or to - timedelta(days=DEFAULT_DAYS)
    if to <= frm:
        raise ProblemError(422, "bad_range", "to must be after from")
    if (to - frm).days > max_days:
        raise ProblemError(422, "bad_range", f"the range is at most {max_days} days")
    return frm, to


def _views(container: ContainerDep, names: tuple[str, ...]) -> dict[str, object]:
    return {name: container.runner.tables(name) for name in names}


@router.get(
    "/me/dashboard",
    response_model=DashboardPublic,
    response_model_by_alias=True,
    dependencies=[Depends(min_position(*DASHBOARD_VIEWS))],
)
def my_dashboard(
    principal: PrincipalDep,
    container: ContainerDep,
    now: Now,
    frm: FromDay = None,
    to: ToDay = None,
) -> DashboardPublic:
    """The caller's listings at a glance over [from, to) (at most 366 days): revenue
    (gross, platform fees, net; refunds deducted; by the UTC day the money moved), payouts,
    occupancy per listing (booked units x nights/days/open hours over available ones, in the
    listing's time zone), ratings; and, from today on, check-ins and check-outs, requests
    waiting for an answer and payouts still to come. Money in integer minor units."""
    start, end = day_range(frm, to, now.date(), MAX_DAYS["day"])
    with container.views.connect() as conn:
        report = owner_dashboard(
            conn, _views(container, DASHBOARD_VIEWS), principal.user_id, start, end, now.date()
        )
    return DashboardPublic.model_validate(report)


@router.get(
    "/admin/analytics",
    response_model=AnalyticsPublic,
    response_model_by_alias=True,
    dependencies=[Depends(min_position("analytics"))],
)
def admin_analytics(
    _: AdminDep,
    container: ContainerDep,
    now: Now,
    frm: FromDay = None,
    to: ToDay = None,
    granularity: Literal["day", "week", "month"] = "day",
) -> AnalyticsPublic:
    """The marketplace over [from, to) (UTC days; at most 366 by day, five years by week or
    month): GMV (what renters paid net of refunds), platform fees and take rate per currency,
    bookings placed, cancellations, disputes opened, new users and new listings; in total, per
    day / ISO week / month, per category and per city. Every money figure sums journal
    entries, so it reconciles with `/admin/ledger/accounts`."""
    start, end = day_range(frm, to, now.date(), MAX_DAYS[granularity])
    with container.views.connect() as conn:
        report = marketplace_analytics(
            conn, _views(container, ("analytics",)), start, end, granularity
        )
    return AnalyticsPublic.model_validate(report)
