"""The owner's dashboard page with real money: a booking booked and paid through the simulated
gateway, and a request waiting. Its revenue (gross, fees, net, paid out), per-listing
occupancy and net, payouts to come and waiting requests are the figures of `GET /me/dashboard`
for the same range."""

from __future__ import annotations

import html
import re

from interfaces.web.templating import money
from tests.http.test_dashboards_http import open_shop
from tests.web.helpers import Api, browser_login


def _cells(row: str) -> list[str]:
    """A table row's cells as text (tags dropped, entities decoded)."""
    found = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in found]


def _section(page: str, heading_id: str) -> str:
    found = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', page, re.S)
    assert found, heading_id
    return found.group(0)


def test_the_dashboards_figures_are_the_apis_for_a_paid_booking(api: Api) -> None:
    shop = open_shop(api)  # one paid stay (30 to 32 days ahead), one waiting request
    m = shop.market
    today = api.clock.now().date()
    params = {"from": today.isoformat(), "to": m.day(40)}
    body = shop.get("/me/dashboard", m.owner, **params)  # waits for the views and the ledger
    (revenue,) = body["revenue"]
    assert revenue["gross"]["amount"] == shop.paid["quote"]["total"] > 0  # real money moved

    browser_login(api.client, m.owner.email)
    page = api.client.get("/host/dashboard", params=params)
    assert page.status_code == 200, page.text
    text = page.text

    rows = re.findall(r"<tr>(.*?)</tr>", _section(text, "h-revenue"), re.S)
    revenue_rows = [_cells(r) for r in rows if "<td" in r]
    assert revenue_rows == [
        [
            "EUR",
            money(revenue["gross"]["amount"], "EUR"),
            money(revenue["fees"]["amount"], "EUR"),
            money(revenue["net"]["amount"], "EUR"),
            money(revenue["paid_out"]["amount"], "EUR"),
        ]
    ]
    assert f'data-net="{revenue["net"]["amount"]}"' in text
    (to_come,) = body["payouts"]["to_come"]
    assert to_come["amount"] == shop.paid["quote"]["owner_payout"]
    assert f"Payouts still to come: {money(to_come['amount'], 'EUR')}" in " ".join(
        html.unescape(_section(text, "h-revenue")).split()
    )

    per_listing = _section(text, "h-listings")
    for row in body["listings"]:
        found = re.search(
            rf'<tr>\s*<td><a href="/host/listings/{row["listing_id"]}">.*?</tr>', per_listing, re.S
        )
        assert found, row["title"]
        _, occupancy, net, _ = _cells(found.group(0))
        o = row["occupancy"]
        rate = f"{o['rate'] * 100:.0f}%"
        assert occupancy == f"{rate} ({o['booked']} of {o['available']} {o['per']}s)"
        nets = [money(r["net"]["amount"], r["currency"]) for r in row["revenue"]]
        assert net == (" ".join(nets) or "—")
    stay = next(r for r in body["listings"] if r["listing_id"] == m.listing_id)
    assert stay["occupancy"]["booked"] == 2 and stay["revenue"] == body["revenue"]

    waiting = _section(text, "h-pending")
    assert f"Requests waiting ({body['pending_requests']['count']})" in waiting
    assert body["pending_requests"]["count"] == 1
