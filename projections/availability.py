"""The availability view: per listing and per night/day/slot key, what is held, reserved and
blocked, mirroring `ListingCalendar` (allocations widened by the turnover buffer they were
placed with), plus what a calendar page needs to price and close keys.

Counters are kept as deltas per page and rows whose counters all fall to zero are deleted,
so a key with no allocation has no row, however the events were paged. Replays are no-ops:
calendar events at or below the calendar's stored version are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    delete,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.calendar import HOLD, RESERVATION, ListingCalendar, occupied_keys
from domain.errors import NotFoundError, RuleViolation
from domain.listing import Listing as _Listing
from domain.periods import day_slot_keys, format_instant, is_open, key_to_date, key_to_instant
from domain.pricing import quote
from domain.pricing_rules import pricing_rules_from_spec
from projections.base import Projection, upsert
from projections.folding import load_rows
from projections.listings import JSONType, parse_instant, utc

# @event classes are made at runtime, where mypy cannot see them.
Listing: Any = _Listing

C: Any = ListingCalendar
CALENDAR_EVENTS = (
    C.Opened,
    C.HoldPlaced,
    C.HoldExtended,
    C.ReservationConfirmed,
    C.Released,
    C.Blocked,
    C.Unblocked,
    C.UnitsChanged,
    C.RulesChanged,
)
LISTING_EVENTS = (
    Listing.Created,
    Listing.Updated,
    Listing.PriceOverrideSet,
    Listing.PriceOverrideCleared,
)
COUNTERS = ("held", "reserved", "blocked")
MAX_RANGE_DAYS = 366


class AvailabilityView(Projection):
    name = "availability"
    topics = tuple(get_topic(cls) for cls in (*CALENDAR_EVENTS, *LISTING_EVENTS))
    version = 1

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        def table(name: str, *columns: Column[Any]) -> Table:
            return Table(f"availability_{name}{suffix}", metadata, *columns)

        return {
            "listings": table(  # pricing inputs, from Listing events
                "listings",
                Column("listing_id", Uuid, primary_key=True),
                Column("version", Integer, nullable=False),
                Column("unit", String(10), nullable=False),
                Column("timezone", String(64), nullable=False),
                Column("pricing", JSONType, nullable=False),
                Column("price_overrides", JSONType, nullable=False),
            ),
            "calendars": table(  # inventory rules, from ListingCalendar events
                "calendars",
                Column("calendar_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False, unique=True),
                Column("version", Integer, nullable=False),
                Column("unit", String(10), nullable=False),
                Column("units", Integer, nullable=False),
                Column("step", Integer, nullable=False),
                Column("buffer_slots", Integer, nullable=False),
                Column("opening_hours", JSONType, nullable=False),
            ),
            "allocations": table(
                "allocations",
                Column("booking_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False, index=True),
                Column("kind", String(20), nullable=False),
                Column("keys", JSONType, nullable=False),
                Column("quantity", Integer, nullable=False),
                Column("buffer", Integer, nullable=False),
                Column("expires_at", DateTime(timezone=True)),
            ),
            "blocks": table(
                "blocks",
                Column("block_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False, index=True),
                Column("keys", JSONType, nullable=False),
            ),
            "keys": table(
                "keys",
                Column("listing_id", Uuid, primary_key=True),
                Column("key", BigInteger, primary_key=True),
                Column("held", Integer, nullable=False),
                Column("reserved", Integer, nullable=False),
                Column("blocked", Integer, nullable=False),
            ),
        }

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        listing_events = [e for e, _ in events if isinstance(e, LISTING_EVENTS)]
        calendar_events = [e for e, _ in events if isinstance(e, CALENDAR_EVENTS)]
        if listing_events:
            self._listings(conn, tables["listings"], listing_events)
        if calendar_events:
            _CalendarPage(conn, tables, calendar_events).apply()

    def _listings(self, conn: Connection, table: Table, events: list[Any]) -> None:
        rows = load_rows(conn, table, {e.originator_id for e in events}, key="listing_id")
        changed: dict[UUID, dict[str, Any]] = {}
        for e in events:
            row, version = rows.get(e.originator_id), e.originator_version
            if isinstance(e, Listing.Created):
                if row is not None:
                    continue
                row = {"listing_id": e.originator_id, "price_overrides": {}, **_pricing(e.spec)}
            elif row is None or row["version"] >= version:
                continue
            elif isinstance(e, Listing.Updated):
                row = {**row, **_pricing({**_spec(row), **e.changes})}
            elif isinstance(e, Listing.PriceOverrideSet):
                row = {**row, "price_overrides": {**row["price_overrides"], e.day: e.amount}}
            else:
                overrides = {d: a for d, a in row["price_overrides"].items() if d != e.day}
                row = {**row, "price_overrides": overrides}
            row["version"] = version
            rows[e.originator_id] = changed[e.originator_id] = row
        upsert(conn, table, changed.values(), newer="version")


def _pricing(spec: dict[str, Any]) -> dict[str, Any]:
    tz = spec["location"]["timezone"]
    return {"unit": spec["booking_unit"], "timezone": tz, "pricing": spec["pricing"]}


def _spec(row: dict[str, Any]) -> dict[str, Any]:
    """The part of a listing spec the pricing rules read."""
    location = {"timezone": row["timezone"]}
    return {"pricing": row["pricing"], "booking_unit": row["unit"], "location": location}


class _CalendarPage:
    """Applies a page of calendar events in memory, then writes the differences."""

    def __init__(self, conn: Connection, tables: dict[str, Table], events: list[Any]) -> None:
        self.conn, self.tables, self.events = conn, tables, events
        # Every calendar of the page, opened in it or not: a replayed page then finds its
        # versions already applied and changes nothing.
        ids = {e.originator_id for e in events}
        self.calendars = load_rows(conn, tables["calendars"], ids, key="calendar_id")
        bookings = {e.booking_id for e in events if hasattr(e, "booking_id")}
        blocks = {e.block_id for e in events if isinstance(e, C.Unblocked)}
        self.allocs: dict[UUID, dict[str, Any] | None] = dict(
            load_rows(conn, tables["allocations"], bookings, key="booking_id")
        )
        self.blocks: dict[UUID, dict[str, Any] | None] = dict(
            load_rows(conn, tables["blocks"], blocks, key="block_id")
        )
        self.changed_calendars: set[UUID] = set()
        self.changed_allocs: set[UUID] = set()
        self.changed_blocks: set[UUID] = set()
        self.deltas: dict[tuple[UUID, int], list[int]] = defaultdict(lambda: [0, 0, 0])

    def apply(self) -> None:
        for event in self.events:
            self._apply(event)
        self._write()

    def _count(self, listing_id: UUID, keys: set[int], counter: str, amount: int) -> None:
        i = COUNTERS.index(counter)
        for key in keys:
            self.deltas[(listing_id, key)][i] += amount

    def _apply(self, e: Any) -> None:
        cid, version = e.originator_id, e.originator_version
        cal = self.calendars.get(cid)
        if isinstance(e, C.Opened):
            if cal is not None:
                return
            cal = {
                "calendar_id": cid,
                "listing_id": e.listing_id,
                "unit": e.unit,
                "units": e.units,
                "step": e.step,
                "buffer_slots": e.buffer_slots,
                "opening_hours": e.opening_hours,
            }
        elif cal is None or cal["version"] >= version:
            return
        else:
            cal = self._apply_to(dict(cal), e)
        cal["version"] = version
        self.calendars[cid] = cal
        self.changed_calendars.add(cid)

    def _apply_to(self, cal: dict[str, Any], e: Any) -> dict[str, Any]:
        lid = cal["listing_id"]
        if isinstance(e, C.HoldPlaced):
            placed = {
                "booking_id": e.booking_id,
                "listing_id": lid,
                "kind": HOLD,
                "keys": list(e.keys),
                "quantity": e.quantity,
                "buffer": cal["buffer_slots"],
                "expires_at": parse_instant(e.expires_at),
            }
            self._set_alloc(e.booking_id, placed)
            self._count(lid, _widened(placed, cal["step"]), "held", e.quantity)
        elif isinstance(e, C.HoldExtended | C.ReservationConfirmed | C.Released):
            alloc = self.allocs.get(e.booking_id)
            if alloc is None:  # the calendar refuses these without an allocation
                return cal
            keys = _widened(alloc, cal["step"])
            counter = "held" if alloc["kind"] == HOLD else "reserved"
            if isinstance(e, C.HoldExtended):
                alloc = {**alloc, "expires_at": parse_instant(e.expires_at)}
                self._set_alloc(e.booking_id, alloc)
            elif isinstance(e, C.ReservationConfirmed):
                self._count(lid, keys, "held", -alloc["quantity"])
                self._count(lid, keys, "reserved", alloc["quantity"])
                self._set_alloc(e.booking_id, {**alloc, "kind": RESERVATION, "expires_at": None})
            else:
                self._count(lid, keys, counter, -alloc["quantity"])
                self._set_alloc(e.booking_id, None)
        elif isinstance(e, C.Blocked):
            self.blocks[e.block_id] = {"block_id": e.block_id, "listing_id": lid, "keys": e.keys}
            self.changed_blocks.add(e.block_id)
            self._count(lid, set(e.keys), "blocked", 1)
        elif isinstance(e, C.Unblocked):
            block = self.blocks.get(e.block_id)
            if block is not None:
                self._count(lid, set(block["keys"]), "blocked", -1)
            self.blocks[e.block_id] = None
            self.changed_blocks.add(e.block_id)
        elif isinstance(e, C.UnitsChanged):
            cal["units"] = e.units
        elif isinstance(e, C.RulesChanged):
            cal.update(buffer_slots=e.buffer_slots, opening_hours=e.opening_hours)
        return cal

    def _set_alloc(self, booking_id: UUID, alloc: dict[str, Any] | None) -> None:
        self.allocs[booking_id] = alloc
        self.changed_allocs.add(booking_id)

    def _write(self) -> None:
        conn, t = self.conn, self.tables
        upsert(
            conn,
            t["calendars"],
            [self.calendars[c] for c in self.changed_calendars],
            newer="version",
        )
        _replace(conn, t["allocations"], "booking_id", self.allocs, self.changed_allocs)
        _replace(conn, t["blocks"], "block_id", self.blocks, self.changed_blocks)
        keys = t["keys"]
        rows = [
            {"listing_id": lid, "key": key, **dict(zip(COUNTERS, d, strict=True))}
            for (lid, key), d in self.deltas.items()
            if any(d)
        ]
        if not rows:
            return
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        for start in range(0, len(rows), 5000):
            stmt = insert(keys).values(rows[start : start + 5000])
            add = {c: keys.c[c] + stmt.excluded[c] for c in COUNTERS}
            conn.execute(stmt.on_conflict_do_update(index_elements=["listing_id", "key"], set_=add))
        listings = list({r["listing_id"] for r in rows})
        conn.execute(
            delete(keys).where(keys.c.listing_id.in_(listings), *(keys.c[c] == 0 for c in COUNTERS))
        )


def _replace(
    conn: Connection,
    table: Table,
    key: str,
    state: dict[UUID, dict[str, Any] | None],
    changed: set[UUID],
) -> None:
    gone = [k for k in changed if state[k] is None]
    live = [state[k] for k in changed if state[k] is not None]
    if gone:
        conn.execute(delete(table).where(table.c[key].in_(gone)))
    upsert(conn, table, live)  # type: ignore[arg-type]


def _widened(alloc: dict[str, Any], step: int) -> set[int]:
    """The keys an allocation occupies, by the calendar's own rule and the buffer the
    allocation was placed with."""
    return occupied_keys(alloc["keys"], alloc["buffer"], step)


# -- queries -------------------------------------------------------------------------------


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
        for key in _widened(dict(alloc), step):
            if key in counts:
                counts[key][0] -= alloc["quantity"]


def _unit_prices(
    meta: dict[str, Any], frm: date, to: date, keys: list[int], hourly: bool
) -> dict[int, dict[str, Any]]:
    """One unit's price per key: a one-unit quote over the whole range lists them all."""
    rules = pricing_rules_from_spec(_spec(meta), meta["price_overrides"])
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
