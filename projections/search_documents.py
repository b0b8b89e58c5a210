"""The search documents view: one row per listing as the search index should hold it, plus
the calendar state that says which keys are fully blocked.

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
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Double,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    and_,
    delete,
    func,
    inspect,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import OperationalError, ProgrammingError

from domain.calendar import occupied_keys
from domain.listing import ACTIVE
from domain.media import media_url
from domain.review import average
from domain.search_documents import Horizon, SearchDocumentSource, SyncState
from projections import tracking
from projections.availability import CALENDAR_EVENTS, C
from projections.base import Projection, ViewTables, new_metadata, upsert, write_transaction
from projections.folding import load_rows
from projections.listings import EVENTS as LISTING_EVENTS
from projections.listings import STATUS_AFTER, JSONType, Listing
from projections.reviews import RATING_EVENTS as REVIEW_EVENTS
from projections.reviews import listing_rating_change

USED, BLOCKED = 0, 1
CHUNK = 1000


class SearchDocumentsView(Projection):
    name = "search_documents"
    topics = tuple(get_topic(cls) for cls in (*LISTING_EVENTS, *CALENDAR_EVENTS, *REVIEW_EVENTS))
    version = 3  # 2: cover_thumbnail_url; 3: ratings from reviews

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        def table(name: str, *columns: Column[Any]) -> Table:
            return Table(f"{name}{suffix}", metadata, *columns)

        return {
            "documents": table(
                "search_documents",
                Column("id", Uuid, primary_key=True),
                Column("version", Integer, nullable=False),
                Column("position", BigInteger, nullable=False, index=True),
                Column("status", String(20), nullable=False),
                Column("deleted", Boolean, nullable=False),
                Column("title", String(200), nullable=False),
                Column("description", Text, nullable=False),
                Column("category", String(20), nullable=False),
                Column("category_data", JSONType, nullable=False),
                Column("city", String(120), nullable=False),
                Column("country", String(2), nullable=False),
                Column("lat", Double, nullable=False),
                Column("lng", Double, nullable=False),
                Column("price_amount", BigInteger, nullable=False),
                Column("currency", String(3), nullable=False),
                Column("capacity", Integer, nullable=False),
                Column("units", Integer, nullable=False),
                Column("amenities", JSONType, nullable=False),
                Column("booking_mode", String(10), nullable=False),
                Column("booking_unit", String(10), nullable=False),
                Column("rating", Double, nullable=False),
                Column("review_count", Integer, nullable=False),
                Column("rating_total", BigInteger, nullable=False),  # of review_count ratings
                Column("created_at", BigInteger, nullable=False),  # epoch seconds
                Column("cover_thumbnail_url", String(200)),
            ),
            "calendars": table(
                "search_calendars",
                Column("calendar_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False, unique=True),
                Column("version", Integer, nullable=False),
                Column("units", Integer, nullable=False),
                Column("step", Integer, nullable=False),
                Column("buffer_slots", Integer, nullable=False),
            ),
            "allocations": table(  # holds and reservations: the keys they occupy, widened
                "search_allocations",
                Column("booking_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False),
                Column("keys", JSONType, nullable=False),
                Column("quantity", Integer, nullable=False),
            ),
            "blocks": table(
                "search_blocks",
                Column("block_id", Uuid, primary_key=True),
                Column("listing_id", Uuid, nullable=False),
                Column("keys", JSONType, nullable=False),
            ),
            "keys": table(
                "search_keys",
                Column("listing_id", Uuid, primary_key=True),
                Column("key", BigInteger, primary_key=True),
                Column("used", Integer, nullable=False),
                Column("blocked", Integer, nullable=False),
            ),
        }

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        _Page(conn, tables, events).apply()


@dataclass
class _Op:
    position: int
    listing_id: UUID
    keys: Iterable[int] = ()
    counter: int = USED
    amount: int = 0
    units: int | None = None  # a change of the unit count instead


class _Page:
    def __init__(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        self.conn, self.t = conn, tables
        # Review events change a listing's rating: folded with its events, in log order.
        self.listing_events = [
            (e, p) for e, p in events if isinstance(e, (*LISTING_EVENTS, *REVIEW_EVENTS))
        ]
        self.calendar_events = [(e, p) for e, p in events if isinstance(e, CALENDAR_EVENTS)]
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
        if isinstance(e, REVIEW_EVENTS):
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
        statements = [
            select(keys_t).where(tuple_(keys_t.c.listing_id, keys_t.c.key).in_(chunk))
            for chunk in _chunks(pairs)
        ]
        statements += [select(keys_t).where(keys_t.c.listing_id.in_(c)) for c in _chunks(whole)]
        for stmt in statements:
            for r in self.conn.execute(stmt).mappings():
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
        for chunk in _chunks(gone):
            conn.execute(delete(keys_t).where(tuple_(keys_t.c.listing_id, keys_t.c.key).in_(chunk)))


def _listing_of(e: Any) -> UUID:
    return e.listing_id if isinstance(e, REVIEW_EVENTS) else e.originator_id


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
    for chunk in _chunks(gone):
        conn.execute(delete(table).where(table.c[key].in_(chunk)))
    upsert(conn, table, [state[k] for k in changed if state[k] is not None])  # type: ignore[misc]


def _chunks(items: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# -- queries -------------------------------------------------------------------------------


def changed_since(
    conn: Connection, tables: Any, position: int, limit: int, horizon: Horizon | None = None
) -> list[dict[str, Any]]:
    """Rows changed after `position`, lowest position first, with their blocked keys
    (within `horizon`, or all of them)."""
    docs = tables["documents"]
    stmt = select(docs).where(docs.c.position > position).order_by(docs.c.position).limit(limit)
    return _with_blocked_keys(conn, tables, stmt, horizon)


def all_rows(
    conn: Connection, tables: Any, after_id: UUID | None, limit: int, horizon: Horizon | None = None
) -> list[dict[str, Any]]:
    """Every row in id order, a page after `after_id` at a time."""
    docs = tables["documents"]
    stmt = select(docs).order_by(docs.c.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(docs.c.id > after_id)
    return _with_blocked_keys(conn, tables, stmt, horizon)


def blocked_keys(
    conn: Connection, tables: Any, listing_ids: Iterable[UUID], horizon: Horizon | None = None
) -> dict[UUID, list[int]]:
    """Each listing's fully-blocked keys, ascending."""
    keys_t, cals = tables["keys"], tables["calendars"]
    out: dict[UUID, list[int]] = defaultdict(list)
    for chunk in _chunks(listing_ids):
        stmt = (
            select(keys_t.c.listing_id, keys_t.c.key)
            .join(cals, cals.c.listing_id == keys_t.c.listing_id)
            .where(
                keys_t.c.listing_id.in_(chunk),
                or_(keys_t.c.blocked > 0, keys_t.c.used >= cals.c.units),
            )
            .order_by(keys_t.c.listing_id, keys_t.c.key)
        )
        if horizon is not None:
            (n0, n1), (h0, h1) = horizon.nights, horizon.hours
            stmt = stmt.where(
                or_(
                    and_(cals.c.step == 1, keys_t.c.key >= n0, keys_t.c.key < n1),
                    and_(cals.c.step != 1, keys_t.c.key >= h0, keys_t.c.key < h1),
                )
            )
        for lid, key in conn.execute(stmt):
            out[lid].append(key)
    return out


def _with_blocked_keys(
    conn: Connection, tables: Any, stmt: Any, horizon: Horizon | None
) -> list[dict[str, Any]]:
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    keys = blocked_keys(conn, tables, [r["id"] for r in rows if not r["deleted"]], horizon)
    for row in rows:
        row["blocked_keys"] = keys.get(row["id"], [])
    return rows


# -- the syncer's source -------------------------------------------------------------------

_sync_metadata = new_metadata()
sync_state = Table(
    "search_sync_state",
    _sync_metadata,
    Column("name", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("generation", String(100), nullable=False),
    Column("horizon_day", Date),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("applied", BigInteger, nullable=False, server_default="0"),
)


class ViewSearchDocuments(SearchDocumentSource):
    """The syncer's `SearchDocumentSource`, read from this view; its own state lives in a
    small table beside it (not part of the view, so a view rebuild keeps it)."""

    generation = f"{SearchDocumentsView.name}:v{SearchDocumentsView.version}"

    def __init__(self, engine: Engine, tables: Any | None = None) -> None:
        self.engine = engine
        self.tables = tables if tables is not None else ViewTables(SearchDocumentsView())
        self._created = False

    def head(self) -> int:
        docs = self.tables["documents"]
        with self.engine.connect() as conn:
            head = conn.execute(select(func.max(docs.c.position))).scalar()
        return int(head or 0)

    def changed_since(self, position: int, limit: int, horizon: Horizon) -> list[dict[str, Any]]:
        with self._snapshot() as conn:
            return changed_since(conn, self.tables, position, limit, horizon)

    def all_rows(self, after_id: UUID | None, limit: int, horizon: Horizon) -> list[dict[str, Any]]:
        with self._snapshot() as conn:
            return all_rows(conn, self.tables, after_id, limit, horizon)

    def load_state(self, name: str) -> SyncState | None:
        self._create()
        with self.engine.connect() as conn:
            row = conn.execute(select(sync_state).where(sync_state.c.name == name)).first()
        if row is None:
            return None
        return SyncState(row.position, row.generation, row.horizon_day, row.applied)

    def save_state(self, name: str, state: SyncState) -> None:
        self._create()
        row = {"name": name, "position": state.position, "generation": state.generation}
        row.update(horizon_day=state.horizon_day, updated_at=datetime.now(UTC))
        row.update(applied=state.applied)
        with write_transaction(self.engine) as conn:
            upsert(conn, sync_state, [row])

    def view_position(self) -> int | None:
        try:
            with self.engine.connect() as conn:
                row = tracking.load(conn, SearchDocumentsView.name)
        except (OperationalError, ProgrammingError):  # no runner has set this database up
            return None
        return row.position if row is not None else None

    def _snapshot(self) -> Any:
        """Rows and their keys from one snapshot (PostgreSQL reads commit per statement)."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        return conn

    def _create(self) -> None:
        if not self._created:
            with write_transaction(self.engine) as conn:
                _sync_metadata.create_all(conn, checkfirst=True)
                add_applied_column(conn)
            self._created = True


def add_applied_column(conn: Connection) -> None:
    """State tables made before the syncer recorded `applied` lack the column."""
    if "applied" not in {c["name"] for c in inspect(conn).get_columns(sync_state.name)}:
        conn.execute(
            text(f"ALTER TABLE {sync_state.name} ADD COLUMN applied BIGINT NOT NULL DEFAULT 0")
        )
