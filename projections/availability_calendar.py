"""What the calendar endpoint reads from the availability view: each night, day or hourly
slot of a range with its free units and one unit's price."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, select

from domain.calendar import HOLD
from domain.errors import NotFoundError, RuleViolation
from domain.periods import day_slot_keys, format_instant, is_open, key_to_date, key_to_instant
from domain.pricing import quote
from domain.pricing_rules import pricing_rules_from_spec
from projections.availability import pricing_spec
from projections.availability_page import widened
from projections.listings import utc

MAX_RANGE_DAYS = 366


def calendar_range(
    conn: Connection,
    tables: Any,
    listing_id: UUID,
    frm: date,
    to: date,
    *,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Each night/day in [frm, to) — or each hourly slot of those local dates — with its
    free units and one unit's price. With `at`, holds that expired by then count as free
    (the scheduler releases them shortly after)."""
    if to <= frm or (to - frm).days > MAX_RANGE_DAYS:
        raise RuleViolation("bad_range", f"to must be after from, at most {MAX_RANGE_DAYS} days")
    cals, keys_t = tables["calendars"], tables["keys"]
    cal = conn.execute(select(cals).where(cals.c.listing_id == listing_id)).mappings().first()
    if cal is None:
        raise NotFoundError("listing_not_found", f"listing {listing_id} not found")
    lt = tables["listings"]
    meta = conn.execute(select(lt).where(lt.c.listing_id == listing_id)).mappings().first()
    if meta is None:
        raise NotFoundError("listing_not_found", f"listing {listing_id} not found")
    hourly = cal["unit"] == "hour"
    days = [frm + timedelta(days=n) for n in range((to - frm).days)]
    if hourly:
        wanted = [k for d in days for k in day_slot_keys(d, meta["timezone"])]
    else:
        wanted = [d.toordinal() for d in days]
    counts: dict[int, list[int]] = {}
    stmt = select(keys_t).where(
        keys_t.c.listing_id == listing_id, keys_t.c.key.between(wanted[0], wanted[-1])
    )
    for r in conn.execute(stmt).mappings():
        counts[r["key"]] = [r["held"], r["reserved"], r["blocked"]]
    if at is not None:
        _forget_expired_holds(conn, tables["allocations"], listing_id, at, cal["step"], counts)
    prices = _unit_prices(dict(meta), frm, to, wanted, hourly)
    out = []
    for key in wanted:
        held, reserved, blocked = counts.get(key, [0, 0, 0])
        is_closed = hourly and not is_open(key, meta["timezone"], cal["opening_hours"])
        free = 0 if blocked or is_closed else max(cal["units"] - held - reserved, 0)
        when = (
            {"start": format_instant(key_to_instant(key)), "open": not is_closed}
            if hourly
            else {"date": key_to_date(key).isoformat()}
        )
        out.append(
            {
                **when,
                "available_units": free,
                "held": held,
                "reserved": reserved,
                "blocked": bool(blocked),
                "price": prices.get(key),
            }
        )
    return out


def _forget_expired_holds(
    conn: Connection,
    allocations: Table,
    listing_id: UUID,
    at: datetime,
    step: int,
    counts: dict[int, list[int]],
) -> None:
    stmt = select(allocations).where(
        allocations.c.listing_id == listing_id,
        allocations.c.kind == HOLD,
        allocations.c.expires_at <= utc(at),
    )
    for alloc in conn.execute(stmt).mappings():
        for key in widened(dict(alloc), step):
            if key in counts:
                counts[key][0] -= alloc["quantity"]


def _unit_prices(
    meta: dict[str, Any], frm: date, to: date, keys: list[int], hourly: bool
) -> dict[int, dict[str, Any]]:
    """One unit's price per key: a one-unit quote over the whole range lists them all."""
    rules = pricing_rules_from_spec(pricing_spec(meta), meta["price_overrides"])
    start: date | datetime = frm
    end: date | datetime = to
    if hourly:
        start = key_to_instant(keys[0])
        end = key_to_instant(day_slot_keys(to, meta["timezone"])[0])
    q = quote(rules, start, end, 1, 1)
    return {
        key: {"amount": price, "currency": q.currency}
        for key, (_, price) in zip(keys, q.unit_prices, strict=True)
    }
