"""Applying a page of calendar events to the availability view: allocations and blocks
changed in memory, counters kept as deltas, then one write of the differences.

Rows whose counters all fall to zero are deleted, so a key with no allocation has no row,
however the events were paged. Replays are no-ops: calendar events at or below the
calendar's stored version are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, Table, any_, bindparam, delete
from sqlalchemy.dialects.postgresql import ARRAY

from domain.calendar import HOLD, RESERVATION, ListingCalendar, occupied_keys
from projections.base import upsert
from projections.folding import load_rows
from projections.listings import parse_instant

# @event classes are made at runtime, where mypy cannot see them.
C: Any = ListingCalendar
COUNTERS = ("held", "reserved", "blocked")


class CalendarPage:
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
            self._count(lid, widened(placed, cal["step"]), "held", e.quantity)
        elif isinstance(e, C.HoldExtended | C.ReservationConfirmed | C.Released):
            alloc = self.allocs.get(e.booking_id)
            if alloc is None:  # the calendar refuses these without an allocation
                return cal
            keys = widened(alloc, cal["step"])
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
        upsert(conn, keys, rows, add=COUNTERS)
        listings = list({r["listing_id"] for r in rows})
        conn.execute(
            delete(keys).where(
                _one_of(conn, keys.c.listing_id, listings), *(keys.c[c] == 0 for c in COUNTERS)
            )
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
        conn.execute(delete(table).where(_one_of(conn, table.c[key], gone)))
    upsert(conn, table, live)  # type: ignore[arg-type]


def _one_of(conn: Connection, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter: the statement is
    compiled once, not once per count of values with a parameter each (a page's deletes
    were an eighth of the view's time)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def widened(alloc: dict[str, Any], step: int) -> set[int]:
    """The keys an allocation occupies, by the calendar's own rule and the buffer the
    allocation was placed with."""
    return occupied_keys(alloc["keys"], alloc["buffer"], step)
