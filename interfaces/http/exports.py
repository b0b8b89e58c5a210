"""CSV exports, streamed: an owner's (or renter's) bookings and payouts, and for admins every
booking and every ledger posting of a period. Money is a decimal string beside a currency
column (interfaces/http/csv_stream.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from interfaces.http.csv_stream import csv_chunks, csv_response, decimal_amount, instant
from interfaces.http.deps import AdminDep, ContainerDep, PrincipalDep
from interfaces.http.positions import min_position
from interfaces.http.problems import ProblemError
from interfaces.http.schemas_common import problem_responses
from projections import exports

router = APIRouter(tags=["exports"], responses=problem_responses(401, 403, 422))

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "RFC 4180 CSV, UTF-8, streamed."}
}
FromDay = Annotated[date | None, Query(alias="from", description="First UTC day (inclusive).")]
ToDay = Annotated[date | None, Query(alias="to", description="Last UTC day (exclusive).")]

BOOKING_HEADER = (
    "booking_id",
    "listing_id",
    "listing_title",
    "owner_id",
    "renter_id",
    "status",
    "unit",
    "start",
    "end",
    "quantity",
    "guests",
    "total",
    "currency",
    "created_at",
    "updated_at",
)


def instants(frm: date | None, to: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC midnights of [from, to); 422 when `to` is not after `from`."""
    if frm is not None and to is not None and to <= frm:
        raise ProblemError(422, "bad_range", "to must be after from")
    start = datetime.combine(frm, time(), UTC) if frm else None
    end = datetime.combine(to, time(), UTC) if to else None
    return start, end


def _booking_cells(r: dict[str, Any]) -> list[Any]:
    return [
        r["id"],
        r["listing_id"],
        r["listing_title"],
        r["owner_id"],
        r["renter_id"],
        r["status"],
        r["unit"],
        r["start"],
        r["end"],
        r["quantity"],
        r["guests"],
        decimal_amount(r["total_amount"], r["currency"]),
        r["currency"],
        instant(r["created_at"]),
        instant(r["updated_at"]),
    ]


def _bookings_csv(container: Any, filename: str, **where: Any) -> StreamingResponse:
    rows = exports.bookings(
        container.views,
        container.runner.tables("bookings"),
        container.runner.tables("analytics")["listings"],
        **where,
    )
    return csv_response(filename, csv_chunks(BOOKING_HEADER, rows, _booking_cells))


@router.get(
    "/me/exports/bookings.csv",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
    dependencies=[Depends(min_position("bookings", "analytics"))],
)
def my_bookings_csv(
    principal: PrincipalDep,
    container: ContainerDep,
    frm: FromDay = None,
    to: ToDay = None,
    role: Literal["owner", "renter"] = "owner",
) -> StreamingResponse:
    """The caller's bookings as owner (default) or renter, placed in [from, to) (UTC days;
    both optional), oldest first. `total` is a decimal in `currency`."""
    start, end = instants(frm, to)
    who = {f"{role}_id": principal.user_id}
    return _bookings_csv(container, f"bookings-{role}.csv", frm=start, to=end, **who)


PAYOUT_HEADER = (
    "booking_id",
    "payment_id",
    "listing_id",
    "booking_status",
    "charge_status",
    "total",
    "captured",
    "refunded",
    "owner_payout",
    "paid_out",
    "currency",
    "payout_status",
    "payout_at",
    "paid_out_at",
    "deposit",
    "deposit_captured",
    "deposit_status",
)


def _payout_cells(r: dict[str, Any]) -> list[Any]:
    def money(name: str) -> str:
        return decimal_amount(r[name], r["currency"])

    return [
        r["booking_id"],
        r["payment_id"],
        r["listing_id"],
        r["booking_status"],
        r["charge_status"],
        money("total"),
        money("captured"),
        money("refunded"),
        money("owner_payout"),
        money("paid_out"),
        r["currency"],
        r["payout_status"],
        instant(r["payout_at"]),
        instant(r["paid_out_at"]),
        money("deposit"),
        money("deposit_captured"),
        r["deposit_status"],
    ]


@router.get(
    "/me/exports/payouts.csv",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
    dependencies=[Depends(min_position("payments"))],
)
def my_payouts_csv(principal: PrincipalDep, container: ContainerDep) -> StreamingResponse:
    """Every booking of the caller's listings with its money: charged, refunded, the owner's
    share, what was paid out and when, the deposit. Amounts are decimals in `currency`."""
    rows = exports.payouts(container.views, container.runner.tables("payments"), principal.user_id)
    return csv_response("payouts.csv", csv_chunks(PAYOUT_HEADER, rows, _payout_cells))


@router.get(
    "/admin/exports/bookings.csv",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
    dependencies=[Depends(min_position("bookings", "analytics"))],
)
def admin_bookings_csv(
    _: AdminDep, container: ContainerDep, frm: FromDay = None, to: ToDay = None
) -> StreamingResponse:
    """Every booking placed in [from, to) (UTC days), oldest first."""
    start, end = instants(frm, to)
    return _bookings_csv(container, "bookings.csv", frm=start, to=end)


LEDGER_HEADER = (
    "entry_id",
    "position",
    "at",
    "booking_id",
    "source_id",
    "source_type",
    "line",
    "account",
    "side",
    "amount",
    "currency",
)


def _ledger_cells(r: dict[str, Any]) -> list[Any]:
    return [
        r["id"],
        r["position"],
        instant(r["at"]),
        r["booking_id"],
        r["source_id"],
        r["source_type"],
        r["line"],
        r["account"],
        r["side"],
        decimal_amount(int(r["amount"]), r["currency"]),
        r["currency"],
    ]


@router.get(
    "/admin/exports/ledger.csv",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
    dependencies=[Depends(min_position("ledger"))],
)
def admin_ledger_csv(
    _: AdminDep, container: ContainerDep, frm: FromDay = None, to: ToDay = None
) -> StreamingResponse:
    """Every posting of the journal entries recorded in [from, to) (UTC days), in log order:
    one row per posting; debits equal credits per entry and currency."""
    start, end = instants(frm, to)
    rows = exports.ledger_postings(
        container.views, container.runner.tables("ledger"), frm=start, to=end
    )
    return csv_response("ledger.csv", csv_chunks(LEDGER_HEADER, rows, _ledger_cells))
