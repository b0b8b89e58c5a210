"""The search re-check on the availability view: which candidates can take `quantity` units
for a whole period. Free units per key follow `calendar_range` exactly (blocked or closed
keys have none; holds expired by `at` count as free), for a page of listings in one
statement rather than one calendar per listing.

The statement goes through the DB-API driver (sqlite3 / psycopg) with one SQL text per
dialect and set of tables: SQLAlchemy's compiling and expanding of the IN lists cost more
than the reads (issue #9). Its three parts (calendars, the period's key counts, expired
holds) are read for every candidate: rows of listings that turn out not to be wanted, and
keys outside a listing's own period, are read but never consulted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from domain.calendar import HOLD, occupied_keys
from domain.errors import RuleViolation
from domain.periods import is_open, slot_keys
from domain.search_availability import Availability, SearchPeriod
from projections.listings import utc

# One row per calendar (0), key count (1) and expired hold (2) of the candidates:
# kind, listing_id, a, b, c, unit, timezone, doc, where (a, b, c) is (units, step, -),
# (key, held + reserved, blocked) or (quantity, buffer, -) and doc the opening hours or the
# hold's keys (JSON).
_SQL = """
SELECT 0, c.listing_id, c.units, c.step, 0, c.unit, l.timezone, c.opening_hours
  FROM {calendars} c JOIN {listings} l ON l.listing_id = c.listing_id
 WHERE c.listing_id {ids}
UNION ALL
SELECT 1, k.listing_id, k.key, k.held + k.reserved, k.blocked, NULL, NULL, NULL
  FROM {keys} k WHERE k.listing_id {ids} AND k.key BETWEEN {lo} AND {hi}
UNION ALL
SELECT 2, a.listing_id, a.quantity, a.buffer, 0, NULL, NULL, a.keys
  FROM {allocations} a
 WHERE a.listing_id {ids} AND a.kind = '{hold}' AND a.expires_at <= {at}
"""
_POSTGRES = {"ids": "= ANY(%(ids)s)", "lo": "%(lo)s", "hi": "%(hi)s", "at": "%(at)s"}
_SQLITE = {"ids": "IN (SELECT value FROM json_each(:ids))", "lo": ":lo", "hi": ":hi", "at": ":at"}


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
        postgres = self.engine.dialect.name == "postgresql"
        sql = _statement(
            postgres,
            t["calendars"].name,
            t["listings"].name,
            t["keys"].name,
            t["allocations"].name,
        )
        lo, hi = _bounds(period)
        at = utc(at)  # type: ignore[assignment]
        by_raw: dict[Any, UUID]  # the ids as the driver hands them back
        raw = self.engine.raw_connection()
        try:
            if postgres:
                by_raw = {u: u for u in listing_ids}
                params: dict[str, Any] = {"ids": list(by_raw), "lo": lo, "hi": hi, "at": at}
                cursor = raw.cursor()
                try:
                    cursor.execute(sql, params)
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
                loads: Callable[[Any], Any] = _same  # jsonb arrives parsed
            else:  # UUIDs are stored as 32 hex digits, instants as naive UTC text
                by_raw = {u.hex: u for u in listing_ids}
                params = {"ids": json.dumps(list(by_raw)), "lo": lo, "hi": hi, "at": _text(at)}
                rows = raw.driver_connection.execute(sql, params).fetchall()  # type: ignore[union-attr]
                loads = json.loads
        finally:
            raw.close()
        return {by_raw[i] for i in decide(rows, period, quantity, loads) if i in by_raw}


def decide(
    rows: Sequence[Sequence[Any]], period: SearchPeriod, quantity: int, loads: Callable[[Any], Any]
) -> set[Any]:
    """The listing ids (as the driver returned them) that can take `quantity` units."""
    wanted: dict[Any, tuple[int, int, list[int]]] = {}  # id -> (units, step, keys)
    used: dict[Any, dict[int, list[int]]] = {}
    holds: list[Sequence[Any]] = []
    for row in rows:
        kind, listing_id = row[0], row[1]
        if kind == 0:
            keys = _keys(row[5], row[6], row[7], loads, period)
            if keys is not None and row[2] >= quantity:
                wanted[listing_id] = (row[2], row[3], keys)
        elif kind == 1:
            used.setdefault(listing_id, {})[row[2]] = [row[3], row[4]]
        else:
            holds.append(row)
    for _, listing_id, held, buffer, _, _, _, keys_doc in holds:
        cal, counts = wanted.get(listing_id), used.get(listing_id)
        if cal is None or not counts:
            continue
        for key in occupied_keys(loads(keys_doc), buffer, cal[1]):
            if key in counts:
                counts[key][0] -= held
    out: set[Any] = set()
    for listing_id, (units, _, keys) in wanted.items():
        counts = used.get(listing_id, {})
        if all(
            not counts.get(k, (0, 0))[1] and units - counts.get(k, (0, 0))[0] >= quantity
            for k in keys
        ):
            out.add(listing_id)
    return out


@lru_cache(maxsize=16)
def _statement(postgres: bool, calendars: str, listings: str, keys: str, allocs: str) -> str:
    """One SQL text per dialect and set of tables (a rebuild swaps them); the drivers keep
    it prepared by its text (psycopg after a few runs, sqlite3's statement cache)."""
    marks = _POSTGRES if postgres else _SQLITE
    return _SQL.format(
        calendars=calendars, listings=listings, keys=keys, allocations=allocs, hold=HOLD, **marks
    )


def _bounds(period: SearchPeriod) -> tuple[int, int]:
    """Keys that hold every listing's keys for the period (hourly: the epoch seconds of
    the slots, which all start within [start, end))."""
    if period.hourly:
        assert isinstance(period.start, datetime) and isinstance(period.end, datetime)
        return math.floor(period.start.timestamp()), math.ceil(period.end.timestamp())
    return period.start.toordinal(), period.end.toordinal()


def _text(at: datetime) -> str:
    """`at` as SQLAlchemy's SQLite DateTime stores it (naive UTC, microseconds)."""
    return (
        f"{at.year:04d}-{at.month:02d}-{at.day:02d} "
        f"{at.hour:02d}:{at.minute:02d}:{at.second:02d}.{at.microsecond:06d}"
    )


def _same(value: Any) -> Any:
    return value


def _keys(
    unit: str, tz: str, opening_hours: Any, loads: Callable[[Any], Any], period: SearchPeriod
) -> list[int] | None:
    """The calendar keys the period covers for this listing; None when the listing cannot
    be booked for it at all (wrong kind of period, misaligned or closed slots)."""
    hourly_listing = unit == "hour"
    if hourly_listing != period.hourly:
        return None
    if not period.hourly:
        return period.night_keys()
    try:
        keys = slot_keys(period.start, period.end, tz)  # type: ignore[arg-type]
    except RuleViolation:
        return None
    hours = loads(opening_hours)
    if not all(is_open(k, tz, hours) for k in keys):
        return None
    return keys
