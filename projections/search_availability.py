"""The search re-check on the availability view: which candidates can take `quantity` units
for a whole period. Free units per key follow `calendar_range` exactly (blocked or closed
keys have none; holds expired by `at` count as free), for a page of listings in three
queries rather than one calendar per listing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Select, bindparam, select

from domain.calendar import HOLD, occupied_keys
from domain.errors import RuleViolation
from domain.periods import is_open, slot_keys
from domain.search_availability import Availability, SearchPeriod
from projections.listings import utc


class ViewAvailability(Availability):
    def __init__(self, engine: Engine, tables: Any) -> None:
        self.engine = engine
        self.tables = tables  # the availability view's; a callable is asked each time

    def bookable(
        self, listing_ids: Sequence[UUID], period: SearchPeriod, quantity: int, at: datetime
    ) -> set[UUID]:
        if not listing_ids:
            return set()
        t = self.tables() if callable(self.tables) else self.tables
        with self.engine.connect() as conn:
            return bookable(conn, t, listing_ids, period, quantity, at)


def bookable(
    conn: Any,
    tables: Any,
    listing_ids: Sequence[UUID],
    period: SearchPeriod,
    quantity: int,
    at: datetime,
) -> set[UUID]:
    by_ids, keys_between, expired_holds = _statements(
        tables["calendars"], tables["listings"], tables["keys"], tables["allocations"]
    )
    wanted: dict[UUID, list[int]] = {}
    calendars: dict[UUID, Any] = {}
    for cal in conn.execute(by_ids, {"ids": sorted(set(listing_ids))}).mappings():
        keys = _keys(cal, period)
        if keys is not None and cal["units"] >= quantity:
            wanted[cal["listing_id"]] = keys
            calendars[cal["listing_id"]] = cal
    if not wanted:
        return set()
    lo = min(k[0] for k in wanted.values())
    hi = max(k[-1] for k in wanted.values())
    used: dict[UUID, dict[int, list[int]]] = defaultdict(dict)
    ids = list(wanted)
    for r in conn.execute(keys_between, {"wanted": ids, "lo": lo, "hi": hi}).mappings():
        used[r["listing_id"]][r["key"]] = [r["held"] + r["reserved"], r["blocked"]]
    for alloc in conn.execute(expired_holds, {"wanted": ids, "at": utc(at)}).mappings():
        counts = used[alloc["listing_id"]]
        step = calendars[alloc["listing_id"]]["step"]
        for key in occupied_keys(alloc["keys"], alloc["buffer"], step):
            if key in counts:
                counts[key][0] -= alloc["quantity"]
    out: set[UUID] = set()
    for listing_id, keys in wanted.items():
        units, counts = calendars[listing_id]["units"], used.get(listing_id, {})
        if all(
            not counts.get(k, (0, 0))[1] and units - counts.get(k, (0, 0))[0] >= quantity
            for k in keys
        ):
            out.add(listing_id)
    return out


@lru_cache(maxsize=8)
def _statements(cals: Any, lt: Any, keys_t: Any, allocs: Any) -> tuple[Select[Any], ...]:
    """The three reads, built once per set of tables (a rebuild swaps them): building and
    keying a select with a literal IN list cost more than running it."""
    calendars = (
        select(cals, lt.c.timezone)
        .join(lt, lt.c.listing_id == cals.c.listing_id)
        .where(cals.c.listing_id.in_(bindparam("ids", expanding=True)))
    )
    keys = select(keys_t).where(
        keys_t.c.listing_id.in_(bindparam("wanted", expanding=True)),
        keys_t.c.key.between(bindparam("lo"), bindparam("hi")),
    )
    expired = select(allocs).where(
        allocs.c.listing_id.in_(bindparam("wanted", expanding=True)),
        allocs.c.kind == HOLD,
        allocs.c.expires_at <= bindparam("at"),
    )
    return calendars, keys, expired


def _keys(cal: Any, period: SearchPeriod) -> list[int] | None:
    """The calendar keys the period covers for this listing; None when the listing cannot
    be booked for it at all (wrong kind of period, misaligned or closed slots)."""
    hourly_listing = cal["unit"] == "hour"
    if hourly_listing != period.hourly:
        return None
    if not period.hourly:
        return period.night_keys()
    try:
        keys = slot_keys(period.start, period.end, cal["timezone"])  # type: ignore[arg-type]
    except RuleViolation:
        return None
    if not all(is_open(k, cal["timezone"], cal["opening_hours"]) for k in keys):
        return None
    return keys
