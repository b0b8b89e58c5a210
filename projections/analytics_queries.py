"""Sums over the analytics view: an owner's money per listing, and the marketplace's figures
per day, category and city (bucketed into days, ISO weeks or months by `buckets`).

Ranges are UTC days `[frm, to)`; money is per currency in minor units.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, func, select

from projections.analytics import DISPUTE, USER

MONEY = ("gross", "fees", "net", "payout", "processor_fees")
COUNTS = ("bookings", "cancellations", "disputes", "new_users", "new_listings")
UNKNOWN = "unknown"  # money of a booking this view never saw placed (e.g. forged in tests)


def owner_money(
    conn: Connection, tables: Any, owner_id: UUID, frm: date, to: date
) -> list[dict[str, Any]]:
    """[{listing_id, currency, gross, fees, net, payout}] of an owner's entries in range."""
    money = tables["money"]
    sums = [func.coalesce(func.sum(money.c[m]), 0).label(m) for m in MONEY]
    stmt = (
        select(money.c.listing_id, money.c.currency, *sums)
        .where(money.c.owner_id == owner_id, money.c.day >= frm, money.c.day < to)
        .group_by(money.c.listing_id, money.c.currency)
    )
    return [{**r, **{m: int(r[m]) for m in MONEY}} for r in conn.execute(stmt).mappings()]


def owner_listings(conn: Connection, tables: Any, owner_id: UUID) -> list[dict[str, Any]]:
    listings = tables["listings"]
    stmt = (
        select(listings)
        .where(listings.c.owner_id == owner_id)
        .order_by(listings.c.created_day, listings.c.listing_id)
    )
    return [dict(r) for r in conn.execute(stmt).mappings()]


def marketplace_rows(
    conn: Connection, tables: Any, frm: date, to: date
) -> Iterator[tuple[date, str, str, str, dict[str, Any]]]:
    """(day, category, city, country, {metric: value}) rows; money metrics are
    {currency: minor units}, counts are ints. Unknown listings group under "unknown"."""
    listings = tables["listings"]
    dims = (listings.c.category, listings.c.city, listings.c.country)

    def grouped(table: Any, day: Any, *where: Any) -> Any:
        """Rows counted per day and listing dimensions."""
        stmt = (
            select(day.label("day"), *dims, func.count().label("n"))
            .select_from(table.outerjoin(listings, table.c.listing_id == listings.c.listing_id))
            .where(day >= frm, day < to, *where)
            .group_by(day, *dims)
        )
        return conn.execute(stmt).mappings()

    money = tables["money"]
    money_cols = [money.c.currency, *(func.sum(money.c[m]).label(m) for m in MONEY)]
    stmt = (
        select(money.c.day, *dims, *money_cols)
        .select_from(money.outerjoin(listings, money.c.listing_id == listings.c.listing_id))
        .where(money.c.day >= frm, money.c.day < to)
        .group_by(money.c.day, *dims, money.c.currency)
    )
    for r in conn.execute(stmt).mappings():
        values = {m: {r["currency"]: int(r[m])} for m in MONEY}
        yield _dims(r, values)
    bookings, facts = tables["bookings"], tables["facts"]
    for r in grouped(bookings, bookings.c.placed_day):
        yield _dims(r, {"bookings": int(r["n"])})
    for r in grouped(bookings, bookings.c.cancelled_day, bookings.c.cancelled_day.is_not(None)):
        yield _dims(r, {"cancellations": int(r["n"])})
    for r in grouped(facts, facts.c.day, facts.c.kind == DISPUTE):
        yield _dims(r, {"disputes": int(r["n"])})
    stmt = (
        select(listings.c.created_day.label("day"), *dims, func.count().label("n"))
        .where(listings.c.created_day >= frm, listings.c.created_day < to)
        .group_by(listings.c.created_day, *dims)
    )
    for r in conn.execute(stmt).mappings():
        yield _dims(r, {"new_listings": int(r["n"])})
    stmt = (
        select(facts.c.day, func.count().label("n"))
        .where(facts.c.kind == USER, facts.c.day >= frm, facts.c.day < to)
        .group_by(facts.c.day)
    )
    for r in conn.execute(stmt).mappings():
        yield (_as_date(r["day"]), "", "", "", {"new_users": int(r["n"])})


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _dims(r: Any, values: dict[str, Any]) -> tuple[date, str, str, str, dict[str, Any]]:
    return (
        _as_date(r["day"]),
        r["category"] or UNKNOWN,
        r["city"] or UNKNOWN,
        r["country"] or "",
        values,
    )


def bucket_start(day: date, granularity: str) -> date:
    if granularity == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if granularity == "month":
        return day.replace(day=1)
    return day


def bucket_starts(frm: date, to: date, granularity: str) -> list[date]:
    """Every bucket touching [frm, to), in order (the first may start before `frm`)."""
    starts: list[date] = []
    day = frm
    while day < to:
        start = bucket_start(day, granularity)
        if not starts or starts[-1] != start:
            starts.append(start)
        day += timedelta(days=1)
    return starts


class Tally:
    """Figures summed per key: money per currency, counts as ints."""

    def __init__(self) -> None:
        self.money: dict[str, dict[str, int]] = {m: {} for m in MONEY}
        self.counts: dict[str, int] = dict.fromkeys(COUNTS, 0)

    def add(self, values: dict[str, Any]) -> None:
        for metric, value in values.items():
            if metric in self.money:
                for currency, amount in value.items():
                    into = self.money[metric]
                    into[currency] = into.get(currency, 0) + amount
            else:
                self.counts[metric] += value


def tally(
    rows: Iterable[tuple[date, str, str, str, dict[str, Any]]], granularity: str
) -> tuple[Tally, dict[date, Tally], dict[str, Tally], dict[tuple[str, str], Tally]]:
    """Totals, per bucket, per category and per (city, country). New users have no
    category or city, so they count in the totals and buckets only."""
    total, by_bucket = Tally(), dict[date, Tally]()
    by_category, by_city = dict[str, Tally](), dict[tuple[str, str], Tally]()
    for day, category, city, country, values in rows:
        total.add(values)
        by_bucket.setdefault(bucket_start(day, granularity), Tally()).add(values)
        if category:
            by_category.setdefault(category, Tally()).add(values)
            by_city.setdefault((city, country), Tally()).add(values)
    return total, by_bucket, by_category, by_city
