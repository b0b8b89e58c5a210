"""The CSV exports over HTTP on the embedded default and PostgreSQL: parsed back with the csv
module (titles with commas, quotes and newlines survive), money as decimal strings beside a
currency, keyset pages that neither skip nor repeat rows, and who may export what."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from interfaces.http.csv_stream import decimal_amount
from projections import exports
from tests.http.conftest import API, Api, Auth
from tests.http.test_bookings_http import Market, open_listing

TITLE = 'Loft, the "blue" one\nby the river'


def rows_of(api: Api, path: str, auth: Auth, **params: Any) -> list[dict[str, str]]:
    ledger = api.container.ledger
    assert ledger is not None
    ledger.catch_up()
    headers = auth.headers | {
        "X-Rentbook-Min-Position": str(api.container.store.current_position())
    }
    r = api.client.get(f"{API}{path}", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="')
    assert r.content.endswith(b"\r\n")  # RFC 4180 line ends
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8"), newline="")))


def paid_market(api: Api) -> tuple[Market, dict[str, Any]]:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin, title=TITLE))
    return m, m.paid(30, 32)


@pytest.mark.parametrize("which", ["api", "pg_api"])
def test_owner_and_admin_exports_parse_back(request: pytest.FixtureRequest, which: str) -> None:
    api: Api = request.getfixturevalue(which)
    m, booking = paid_market(api)
    quote = booking["quote"]

    (mine,) = rows_of(api, "/me/exports/bookings.csv", m.owner)
    assert mine["booking_id"] == booking["id"] and mine["listing_title"] == TITLE
    assert mine["total"] == decimal_amount(quote["total"], "EUR") == "224.00"
    assert mine["currency"] == "EUR" and mine["status"] == "confirmed"
    assert mine["start"] == m.day(30) and mine["quantity"] == "1"
    (rented,) = rows_of(api, "/me/exports/bookings.csv", m.renter, role="renter")
    assert rented["booking_id"] == booking["id"]

    (payout,) = rows_of(api, "/me/exports/payouts.csv", m.owner)
    assert payout["captured"] == "224.00" and payout["owner_payout"] == "194.00"
    assert payout["paid_out"] == "0.00" and payout["charge_status"] == "captured"

    today = api.clock.now().date()
    window = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    everyone = rows_of(api, "/admin/exports/bookings.csv", m.admin, **window)
    assert booking["id"] in {r["booking_id"] for r in everyone}
    before = {"from": "2020-01-01", "to": "2020-02-01"}
    assert rows_of(api, "/admin/exports/bookings.csv", m.admin, **before) == []

    postings = rows_of(api, "/admin/exports/ledger.csv", m.admin, **window)
    mine_only = [p for p in postings if p["booking_id"] == booking["id"]]
    assert {p["source_type"] for p in mine_only} == {"Payment.ChargeCaptured"}
    debits = sum(int(p["amount"].replace(".", "")) for p in postings if p["side"] == "debit")
    credits = sum(int(p["amount"].replace(".", "")) for p in postings if p["side"] == "credit")
    assert debits == credits > 0


def test_others_see_an_empty_export_and_admin_exports_are_admin_only(api: Api) -> None:
    m, _ = paid_market(api)
    stranger = api.new_user()
    assert rows_of(api, "/me/exports/bookings.csv", stranger) == []
    assert rows_of(api, "/me/exports/payouts.csv", stranger) == []
    for path in ("/admin/exports/bookings.csv", "/admin/exports/ledger.csv"):
        for auth in (stranger, m.owner):
            r = api.client.get(f"{API}{path}", headers=auth.headers)
            assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        assert api.client.get(f"{API}{path}").status_code == 401
    assert api.client.get(f"{API}/me/exports/bookings.csv").status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2026-01-01", "to": "2026-01-01"},
        {"from": "not-a-day"},
        {"role": "admin"},
    ],
)
def test_bad_export_parameters_are_422(api: Api, params: dict[str, str]) -> None:
    user = api.new_user()
    r = api.client.get(f"{API}/me/exports/bookings.csv", params=params, headers=user.headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_keyset_pages_neither_skip_nor_repeat_rows_placed_at_the_same_instant(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin, quantity=9))
    placed = {m.placed(30 + n, 31 + n)["id"] for n in range(7)}  # the clock stands still
    rows_of(api, "/me/exports/bookings.csv", owner)  # waits for the views
    tables = api.container.runner.tables("bookings")
    listings = api.container.runner.tables("analytics")["listings"]
    for page in (1, 2, 3, 7, 100):
        found = exports.bookings(
            api.container.views, tables, listings, owner_id=UUID(owner.id), page=page
        )
        got = [str(r["id"]) for r in found]
        assert sorted(got) == sorted(placed) and len(got) == len(placed)
        assert got == sorted(got)  # one instant: the id breaks the tie, in order


def test_money_is_written_in_each_currencys_own_precision() -> None:
    assert decimal_amount(12_345, "EUR") == "123.45"
    assert decimal_amount(-5, "EUR") == "-0.05"
    assert decimal_amount(0, "USD") == "0.00"
    assert decimal_amount(12_345, "JPY") == "12345"
    assert decimal_amount(12_345, "KWD") == "12.345"
