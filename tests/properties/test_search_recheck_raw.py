"""The dated search re-check through the DB-API driver (one statement per dialect) answers
exactly as the three SQLAlchemy reads it replaced (kept here as the reference), over random
calendars, key counts, holds and hits, on SQLite and PostgreSQL (issue #9)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, MetaData, Table, select

from domain.calendar import HOLD, RESERVATION, occupied_keys
from domain.errors import RuleViolation
from domain.periods import is_open, slot_keys
from domain.search_availability import SearchPeriod
from infrastructure.views_db import create_views_engine
from projections.availability import AvailabilityView
from projections.listings import utc
from projections.search_availability import ViewAvailability

AT = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # a DST weekend in Europe
DAY0 = date(2026, 3, 27)
HOUR0 = int(datetime(2026, 3, 29, 0, 0, tzinfo=UTC).timestamp())
ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns")
HOURS: tuple[dict[str, list[list[str]]], ...] = (
    {},
    {},
    {"sun": [["01:00", "05:00"]], "mon": [["00:00", "23:00"]]},
)


def reference(
    conn: Any, t: dict[str, Table], ids: Sequence[UUID], period: SearchPeriod, q: int, at: datetime
) -> set[UUID]:
    """The re-check as it was: three SQLAlchemy reads with expanding IN lists."""
    cals, lt, keys_t, allocs = t["calendars"], t["listings"], t["keys"], t["allocations"]
    by_ids = (
        select(cals, lt.c.timezone)
        .join(lt, lt.c.listing_id == cals.c.listing_id)
        .where(cals.c.listing_id.in_(sorted(set(ids))))
    )
    wanted: dict[UUID, list[int]] = {}
    calendars: dict[UUID, Any] = {}
    for cal in conn.execute(by_ids).mappings():
        keys = _ref_keys(cal, period)
        if keys is not None and cal["units"] >= q:
            wanted[cal["listing_id"]] = keys
            calendars[cal["listing_id"]] = cal
    if not wanted:
        return set()
    lo = min(k[0] for k in wanted.values())
    hi = max(k[-1] for k in wanted.values())
    used: dict[UUID, dict[int, list[int]]] = defaultdict(dict)
    w = list(wanted)
    rows = select(keys_t).where(keys_t.c.listing_id.in_(w), keys_t.c.key.between(lo, hi))
    for r in conn.execute(rows).mappings():
        used[r["listing_id"]][r["key"]] = [r["held"] + r["reserved"], r["blocked"]]
    expired = select(allocs).where(
        allocs.c.listing_id.in_(w), allocs.c.kind == HOLD, allocs.c.expires_at <= utc(at)
    )
    for alloc in conn.execute(expired).mappings():
        counts = used[alloc["listing_id"]]
        step = calendars[alloc["listing_id"]]["step"]
        for key in occupied_keys(alloc["keys"], alloc["buffer"], step):
            if key in counts:
                counts[key][0] -= alloc["quantity"]
    out: set[UUID] = set()
    for listing_id, keys in wanted.items():
        units, counts = calendars[listing_id]["units"], used.get(listing_id, {})
        if all(
            not counts.get(k, (0, 0))[1] and units - counts.get(k, (0, 0))[0] >= q for k in keys
        ):
            out.add(listing_id)
    return out


def _ref_keys(cal: Any, period: SearchPeriod) -> list[int] | None:
    if (cal["unit"] == "hour") != period.hourly:
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


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    """Listings with or without a calendar and pricing row, their key counts and
    allocations around the period, the period, the quantity and the hits asked about."""
    hourly = draw(st.booleans())
    n = draw(st.integers(1, 6))
    ids = [UUID(int=(i + 1) * 7919) for i in range(n)]
    out: dict[str, list[dict[str, Any]]] = {"calendars": [], "listings": [], "keys": []}
    out["allocations"] = []
    for i, lid in enumerate(ids):
        units = ("hour",) * 3 + ("night", "day") if hourly else ("night",) * 3 + ("day", "hour")
        unit = draw(st.sampled_from(units))
        step = 3600 if unit == "hour" else 1
        tz = draw(st.sampled_from(ZONES))
        if draw(st.integers(0, 5)):
            out["calendars"].append(
                {
                    "calendar_id": UUID(int=i + 1),
                    "listing_id": lid,
                    "version": 1,
                    "unit": unit,
                    "units": draw(st.sampled_from((1, 1, 2, 4))),
                    "step": step,
                    "buffer_slots": 0,
                    "opening_hours": draw(st.sampled_from(HOURS)),
                }
            )
        if draw(st.integers(0, 5)):
            out["listings"].append(
                {
                    "listing_id": lid,
                    "version": 1,
                    "unit": unit,
                    "timezone": tz,
                    "pricing": {},
                    "price_overrides": {},
                }
            )
        near = (
            [HOUR0 + h * 3600 + 1800 * (tz == "Asia/Kolkata") for h in range(-3, 12)]
            if unit == "hour"
            else [DAY0.toordinal() + d for d in range(-1, 10)]
        )
        counted = sorted(draw(st.sets(st.sampled_from(near), max_size=4)))
        for key in counted:
            held, reserved = draw(st.sampled_from(((1, 0), (0, 1), (1, 1), (2, 0), (0, 0))))
            out["keys"].append(
                {
                    "listing_id": lid,
                    "key": key,
                    "held": held,
                    "reserved": reserved,
                    "blocked": int(draw(st.integers(0, 7)) == 0),
                }
            )
        for j in range(draw(st.integers(0, 3))):
            minutes = draw(st.sampled_from((None, -60, -1, 0, 0, 1, 60)))
            out["allocations"].append(
                {
                    "booking_id": UUID(int=(i + 1) * 100 + j),
                    "listing_id": lid,
                    "kind": draw(st.sampled_from((HOLD, HOLD, RESERVATION))),
                    "keys": sorted(draw(st.sets(st.sampled_from(counted or near), min_size=1))),
                    "quantity": draw(st.integers(1, 2)),
                    "buffer": draw(st.integers(0, 2)),
                    "expires_at": None if minutes is None else AT + timedelta(minutes=minutes),
                }
            )
    if hourly:
        start = datetime.fromtimestamp(HOUR0 + draw(st.integers(-2, 4)) * 3600, UTC)
        end = start + timedelta(hours=draw(st.integers(1, 6)))
        period = SearchPeriod(start, end)
    else:
        first = DAY0 + timedelta(days=draw(st.integers(0, 4)))
        period = SearchPeriod(first, first + timedelta(days=draw(st.integers(1, 5))))
    stranger = UUID(int=424242)
    hits = draw(st.lists(st.sampled_from([*ids, stranger]), min_size=1, max_size=8, unique=True))
    return {
        "rows": out,
        "period": period,
        "quantity": draw(st.sampled_from((1, 1, 2, 3))),
        "hits": hits,
    }


def _check(engine: Engine, world: dict[str, Any]) -> None:
    tables = AvailabilityView().define_tables(MetaData(), "")
    with engine.begin() as conn:
        for name in ("allocations", "keys", "calendars", "listings", "blocks"):
            conn.execute(tables[name].delete())
        for name, rows in world["rows"].items():
            if rows:
                conn.execute(tables[name].insert(), rows)
    hits, period, q = world["hits"], world["period"], world["quantity"]
    with engine.connect() as conn:
        expected = reference(conn, tables, hits, period, q, AT) if hits else set()
    assert ViewAvailability(engine, tables).bookable(hits, period, q, AT) == expected
    assert ViewAvailability(engine, lambda: tables).bookable(hits, period, q, AT) == expected


def _engine(url: str) -> Iterator[Engine]:
    engine = create_views_engine(url, pool_size=1)
    try:
        AvailabilityView().define_tables(metadata := MetaData(), "")
        metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    yield from _engine(f"sqlite:///{tmp_path / 'views.db'}")


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    yield from _engine(pg_url)


RUNS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@RUNS
@given(world=worlds())
def test_the_raw_recheck_answers_as_the_reads_it_replaced_on_sqlite(
    sqlite_engine: Engine, world: dict[str, Any]
) -> None:
    _check(sqlite_engine, world)


@RUNS
@given(world=worlds())
def test_the_raw_recheck_answers_as_the_reads_it_replaced_on_postgres(
    pg_engine: Engine, world: dict[str, Any]
) -> None:
    _check(pg_engine, world)
