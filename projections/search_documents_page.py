"""Folding a page of events into the search documents view: listing events (with their
cover photo's thumbnail), review events (the rating) and calendar events (which keys are
fully blocked).

A key (date ordinal, or epoch second of an hourly slot) is fully blocked when a block covers
it or holds and reservations, widened by the buffer they were placed with, take every unit.
Holds count until released: the view cannot read the clock. Counts live per listing and key
in a side table (rows at zero are deleted), so a busy listing with years of bookings costs
one small row per occupied key rather than one ever-growing array to rewrite on each change.

A row's `position` is the log position of the last event that changed its document: any
listing event, or a calendar event that turned a key fully blocked or free again (a booking
that leaves a unit free does not touch it). Each page is folded twice: first the calendar
state, recording count operations in log order; then, with the counts loaded, those
operations in order, so positions do not depend on how the log was paged and a rebuild
equals incremental processing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, delete, select, tuple_

from domain.calendar import occupied_keys
from domain.listing import ACTIVE
from domain.media import media_url
from domain.review import average
from projections.availability import CALENDAR_EVENTS, C
from projections.base import upsert
from projections.bulk import pg_delete_keys, pg_select_keys
from projections.event_kinds import Kinds
from projections.folding import chunks, load_rows
from projections.listings import EVENTS as LISTING_EVENTS
from projections.listings import STATUS_AFTER, Listing
from projections.reviews import RATING_EVENTS as REVIEW_EVENTS
from projections.reviews import listing_rating_change

USED, BLOCKED = 0, 1
CHUNK = 1000  # (listing, key) pairs or ids per IN (...) query


@dataclass
class _Op:
    position: int
    listing_id: UUID
    keys: Iterable[int] = ()
    counter: int = USED
    amount: int = 0
    units: int | None = None  # a change of the unit count instead


is_listing_or_review = Kinds(*LISTING_EVENTS, *REVIEW_EVENTS)
is_calendar, is_review = Kinds(*CALENDAR_EVENTS), Kinds(*REVIEW_EVENTS)


class SearchDocumentsPage:
    """One page of events: its rows loaded, folded in the two passes above, and written
    back with one upsert (or delete) per table."""

    def __init__(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        self.conn, self.t = conn, tables
        # Review events change a listing's rating: folded with its events, in log order.
        self.listing_events: list[tuple[Any, int]] = [
            (e, p) for e, p in events if is_listing_or_review(e)
        ]
        self.calendar_events: list[tuple[Any, int]] = [(e, p) for e, p in events if is_calendar(e)]
        cal_events = [e for e, _ in self.calendar_events]
        # Ids a page creates are loaded too, so that a replayed page finds them.
        ids = {_listing_of(e) for e, _ in self.listing_events}
        self.docs = load_rows(conn, tables["documents"], ids)
        cal_ids = {e.originator_id for e in cal_events}
        self.calendars = load_rows(conn, tables["calendars"], cal_ids, key="calendar_id")
        bookings = {e.booking_id for e in cal_events if hasattr(e, "booking_id")}
        blocks = {e.block_id for e in cal_events if isinstance(e, C.Unblocked)}
        self.allocs: dict[UUID, dict[str, Any] | None] = dict(
            load_rows(conn, tables["allocations"], bookings, key="booking_id")
        )
        self.blocks: dict[UUID, dict[str, Any] | None] = dict(
            load_rows(conn, tables["blocks"], blocks, key="block_id")
        )
        self.changed_docs: set[UUID] = set()
        self.changed_calendars: set[UUID] = set()
        self.changed_allocs: set[UUID] = set()
        self.changed_blocks: set[UUID] = set()
        self.ops: list[_Op] = []
        self.units_before: dict[UUID, int] = {}  # listing -> units at the start of the page

    def apply(self) -> None:
        for event, position in self.listing_events:
            self._listing(event, position)
        for event, position in self.calendar_events:
            self._calendar(event, position)
        self._fold_counts()
        self._write()

    # -- pass one ------------------------------------------------------------------------

    def _listing(self, e: Any, position: int) -> None:
        if is_review(e):
            self._rating(e, position)
            return
        lid, version, row = e.originator_id, e.originator_version, self.docs.get(e.originator_id)
        if isinstance(e, Listing.Created):
            if row is not None:
                return
            row = {"id": lid, "status": "draft", "rating": 0.0, "review_count": 0}
            row["rating_total"] = 0
            row.update(created_at=int(e.at.timestamp()), **_from_spec(e.spec))
        elif row is None or row["version"] >= version:
            return
        elif isinstance(e, Listing.Updated):
            row = {**row, **_from_spec(e.changes)}
        elif type(e) in STATUS_AFTER:
            row = {**row, "status": STATUS_AFTER[type(e)]}
        else:  # price overrides: not in the document, but the listing's version moves
            row = dict(row)
        row.update(version=version, position=position, deleted=row["status"] != ACTIVE)
        self.docs[lid] = row
        self.changed_docs.add(lid)

    def _rating(self, e: Any, position: int) -> None:
        change = listing_rating_change(e)
        row = self.docs.get(change[0]) if change else None
        if change is None or row is None or row["position"] >= position:  # none, or applied
            return
        count, total = row["review_count"] + change[1], row["rating_total"] + change[2]
        row = {**row, "review_count": count, "rating_total": total, "position": position}
        row["rating"] = average(total, count)
        self.docs[change[0]] = row
        self.changed_docs.add(change[0])

    def _calendar(self, e: Any, position: int) -> None:
        cid, version, cal = (
            e.originator_id,
            e.originator_version,
            self.calendars.get(e.originator_id),
        )
        if isinstance(e, C.Opened):
            if cal is not None:
                return
            cal = {"calendar_id": cid, "listing_id": e.listing_id, "units": e.units}
            cal.update(step=e.step, buffer_slots=e.buffer_slots)
            self.units_before.setdefault(e.listing_id, e.units)
        elif cal is None or cal["version"] >= version:
            return
        else:
            cal = dict(cal)
            self.units_before.setdefault(cal["listing_id"], cal["units"])
            self._calendar_change(cal, e, position)
        cal["version"] = version
        self.calendars[cid] = cal
        self.changed_calendars.add(cid)

    def _calendar_change(self, cal: dict[str, Any], e: Any, position: int) -> None:
        lid = cal["listing_id"]
        if isinstance(e, C.HoldPlaced):
            keys = sorted(occupied_keys(e.keys, cal["buffer_slots"], cal["step"]))
            alloc = {"booking_id": e.booking_id, "listing_id": lid, "keys": keys}
            self._set(
                self.allocs, self.changed_allocs, e.booking_id, {**alloc, "quantity": e.quantity}
            )
            self.ops.append(_Op(position, lid, keys, USED, e.quantity))
        elif isinstance(e, C.Released):
            held = self.allocs.get(e.booking_id)
            if held is not None:
                self.ops.append(_Op(position, lid, held["keys"], USED, -held["quantity"]))
                self._set(self.allocs, self.changed_allocs, e.booking_id, None)
        elif isinstance(e, C.Blocked):
            keys = sorted(set(e.keys))
            block = {"block_id": e.block_id, "listing_id": lid, "keys": keys}
            self._set(self.blocks, self.changed_blocks, e.block_id, block)
            self.ops.append(_Op(position, lid, keys, BLOCKED, 1))
        elif isinstance(e, C.Unblocked):
            lifted = self.blocks.get(e.block_id)
            if lifted is not None:
                self.ops.append(_Op(position, lid, lifted["keys"], BLOCKED, -1))
                self._set(self.blocks, self.changed_blocks, e.block_id, None)
        elif isinstance(e, C.UnitsChanged):
            cal["units"] = e.units
            self.ops.append(_Op(position, lid, units=e.units))
        elif isinstance(e, C.RulesChanged):
            cal["buffer_slots"] = e.buffer_slots
        # HoldExtended and ReservationConfirmed occupy the same units as the hold did.

    @staticmethod
    def _set(state: dict[UUID, Any], changed: set[UUID], key: UUID, value: Any) -> None:
        state[key] = value
        changed.add(key)

    # -- pass two ------------------------------------------------------------------------

    def _fold_counts(self) -> None:
        """Applies the count operations in log order; a listing's document changes at the
        last operation that turned one of its keys fully blocked or free."""
        self.counts = self._load_counts()
        self.changed_keys: set[tuple[UUID, int]] = set()
        units = dict(self.units_before)
        flipped: dict[UUID, int] = {}
        for op in self.ops:
            lid, counts = op.listing_id, self.counts[op.listing_id]
            if op.units is not None:
                old, units[lid] = units[lid], op.units
                if any(_full(c, old) != _full(c, op.units) for c in counts.values()):
                    flipped[lid] = op.position
                continue
            for key in op.keys:
                c = counts.setdefault(key, [0, 0])
                before = _full(c, units[lid])
                c[op.counter] += op.amount
                self.changed_keys.add((lid, key))
                if _full(c, units[lid]) != before:
                    flipped[lid] = op.position
        missing = set(flipped) - set(self.docs)
        self.docs.update(load_rows(self.conn, self.t["documents"], missing))
        for lid, position in flipped.items():
            row = self.docs.get(lid)
            if row is not None and row["position"] < position:
                self.docs[lid] = {**row, "position": position}
                self.changed_docs.add(lid)

    def _load_counts(self) -> dict[UUID, dict[int, list[int]]]:
        keys_t = self.t["keys"]
        counts: dict[UUID, dict[int, list[int]]] = defaultdict(dict)
        whole = {op.listing_id for op in self.ops if op.units is not None}
        pairs = sorted(
            {(op.listing_id, k) for op in self.ops if op.listing_id not in whole for k in op.keys}
        )
        found: list[Any] = []
        if self.conn.dialect.name == "postgresql":
            found += pg_select_keys(self.conn, keys_t, ("listing_id", "key"), pairs)
        else:
            for chunk in chunks(pairs, CHUNK):
                pair = tuple_(keys_t.c.listing_id, keys_t.c.key)
                found += self.conn.execute(select(keys_t).where(pair.in_(chunk))).mappings()
        for c in chunks(whole, CHUNK):
            found += self.conn.execute(select(keys_t).where(keys_t.c.listing_id.in_(c))).mappings()
        for r in found:
            counts[r["listing_id"]][r["key"]] = [r["used"], r["blocked"]]
        return counts

    # -- writing -------------------------------------------------------------------------

    def _write(self) -> None:
        conn, t = self.conn, self.t
        upsert(conn, t["documents"], [self.docs[i] for i in self.changed_docs], newer="position")
        upsert(
            conn,
            t["calendars"],
            [self.calendars[c] for c in self.changed_calendars],
            newer="version",
        )
        _replace(conn, t["allocations"], "booking_id", self.allocs, self.changed_allocs)
        _replace(conn, t["blocks"], "block_id", self.blocks, self.changed_blocks)
        keys_t, live, gone = t["keys"], [], []
        for lid, key in sorted(self.changed_keys):
            used, blocked = self.counts[lid][key]
            if used or blocked:
                live.append({"listing_id": lid, "key": key, "used": used, "blocked": blocked})
            else:
                gone.append((lid, key))
        upsert(conn, keys_t, live)
        if conn.dialect.name == "postgresql":
            pg_delete_keys(conn, keys_t, ("listing_id", "key"), gone)
            return
        for chunk in chunks(gone, CHUNK):
            conn.execute(delete(keys_t).where(tuple_(keys_t.c.listing_id, keys_t.c.key).in_(chunk)))


def _listing_of(e: Any) -> UUID:
    return e.listing_id if is_review(e) else e.originator_id


def _full(counts: list[int], units: int) -> bool:
    return counts[BLOCKED] > 0 or counts[USED] >= units


def _from_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The document fields a (partial) spec sets: all of them for a whole spec, the
    changed ones for an `Updated` event's top-level changes."""
    same = ("title", "description", "category", "category_data", "capacity", "amenities")
    out = {k: spec[k] for k in (*same, "booking_mode", "booking_unit") if k in spec}
    if "quantity" in spec:
        out["units"] = spec["quantity"]
    if "location" in spec:
        loc = spec["location"]
        out.update(city=loc["city"], country=loc["country"], lat=loc["lat"], lng=loc["lng"])
    if "pricing" in spec:
        base = spec["pricing"]["base"]
        out.update(price_amount=base["amount"], currency=base["currency"])
    if "cover_photo_id" in spec:
        cover = spec["cover_photo_id"]
        out["cover_thumbnail_url"] = media_url(cover, "thumb") if cover else None
    return out


def _replace(
    conn: Connection,
    table: Table,
    key: str,
    state: dict[UUID, dict[str, Any] | None],
    changed: set[UUID],
) -> None:
    gone = [k for k in changed if state[k] is None]
    if conn.dialect.name == "postgresql":
        pg_delete_keys(conn, table, (key,), [(k,) for k in gone])
    else:
        for chunk in chunks(gone, CHUNK):
            conn.execute(delete(table).where(table.c[key].in_(chunk)))
    upsert(conn, table, [state[k] for k in changed if state[k] is not None])  # type: ignore[misc]
