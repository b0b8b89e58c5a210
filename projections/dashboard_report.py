"""The owner dashboard and the marketplace analytics, assembled from the views.

`views` maps a projection name to its tables (`runner.tables(name)`). Money comes out as
`{amount, currency}` lists, one entry per currency, sorted by currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from projections import analytics_queries as q
from projections import dashboard as d

UPCOMING_LIMIT = 20


def _money(by_currency: Mapping[str, int]) -> list[dict[str, Any]]:
    return [{"amount": by_currency[c], "currency": c} for c in sorted(by_currency)]


def _revenue(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sums: dict[str, dict[str, int]] = {}
    for r in rows:
        into = sums.setdefault(r["currency"], dict.fromkeys(q.MONEY, 0))
        for metric in q.MONEY:
            into[metric] += r[metric]
    return [
        {
            "currency": c,
            **{
                name: {"amount": sums[c][metric], "currency": c}
                for name, metric in (
                    ("gross", "gross"),
                    ("fees", "fees"),
                    ("net", "net"),
                    ("paid_out", "payout"),
                )
            },
        }
        for c in sorted(sums)
    ]


def owner_dashboard(
    conn: Connection,
    views: Mapping[str, Any],
    owner_id: UUID,
    frm: date,
    to: date,
    today: date,
) -> dict[str, Any]:
    """Revenue, occupancy and rating per listing and overall for [frm, to) (money by the UTC
    day it moved, occupancy by the listing's local nights/days/slots), plus what is coming:
    check-ins/outs from `today`, requests to answer, payouts not yet sent."""
    analytics = views["analytics"]
    money = q.owner_money(conn, analytics, owner_id, frm, to)
    listings = q.owner_listings(conn, analytics, owner_id)
    ratings, overall = d.listing_ratings(
        conn, views["reviews"], [row["listing_id"] for row in listings]
    )
    per_listing = []
    for row in listings:
        lid = row["listing_id"]
        per_listing.append(
            {
                "listing_id": lid,
                "title": row["title"],
                "category": row["category"],
                "city": row["city"],
                "occupancy": d.occupancy(conn, views["availability"], lid, frm, to),
                "revenue": _revenue([m for m in money if m["listing_id"] == lid]),
                "rating": ratings.get(lid, {"count": 0, "average": 0.0}),
            }
        )
    revenue = _revenue(money)
    count, pending = d.pending_requests(conn, views["bookings"], owner_id, UPCOMING_LIMIT)
    return {
        "owner_id": owner_id,
        "from": frm,
        "to": to,
        "revenue": revenue,
        "listings": per_listing,
        "upcoming": d.upcoming(conn, views["bookings"], owner_id, today, UPCOMING_LIMIT),
        "pending_requests": {"count": count, "data": pending},
        "payouts": {
            "paid": [r["paid_out"] for r in revenue if r["paid_out"]["amount"]],
            "to_come": _money(d.payouts_to_come(conn, views["payments"], owner_id)),
        },
        "rating": overall,
    }


def _figures(tally: q.Tally, *, users: bool) -> dict[str, Any]:
    gmv, fees = tally.money["gross"], tally.money["fees"]
    return {
        "gmv": _money(gmv),
        "fees": _money(fees),
        "take_rate": [
            {"currency": c, "rate": round(fees.get(c, 0) / gmv[c], 4) if gmv[c] else 0.0}
            for c in sorted(gmv)
        ],
        "owner_net": _money(tally.money["net"]),
        "processor_fees": _money(tally.money["processor_fees"]),
        **{k: v for k, v in tally.counts.items() if users or k != "new_users"},
    }


def marketplace_analytics(
    conn: Connection, views: Mapping[str, Any], frm: date, to: date, granularity: str
) -> dict[str, Any]:
    """GMV, fees, take rate, bookings, cancellations, disputes, new users and listings over
    [frm, to) (UTC days): in total, per bucket (every bucket, empty ones too), per category
    and per city."""
    rows = q.marketplace_rows(conn, views["analytics"], frm, to)
    total, by_bucket, by_category, by_city = q.tally(rows, granularity)
    return {
        "from": frm,
        "to": to,
        "granularity": granularity,
        "totals": _figures(total, users=True),
        "buckets": [
            {"start": start, **_figures(by_bucket.get(start, q.Tally()), users=True)}
            for start in q.bucket_starts(frm, to, granularity)
        ],
        "by_category": [
            {"category": c, **_figures(by_category[c], users=False)} for c in sorted(by_category)
        ],
        "by_city": [
            {"city": city, "country": country, **_figures(t, users=False)}
            for (city, country), t in sorted(by_city.items())
        ],
    }
