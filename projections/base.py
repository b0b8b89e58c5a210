"""The contract every view implements, and the helpers views use to write fast.

A view module declares its tables once, for any suffix, and dispatches on event type:

    class BookingsView(Projection):
        name = "bookings"
        topics = (get_topic(Booking.Requested), get_topic(Booking.Confirmed))
        version = 1

        def define_tables(self, metadata, suffix):
            return {"bookings": Table(f"bookings{suffix}", metadata,
                                      Column("id", Uuid, primary_key=True),
                                      Column("version", Integer, nullable=False),
                                      Column("renter_id", Uuid, index=True), ...)}

        def process(self, conn, tables, event, position):
            if isinstance(event, Booking.Requested):
                upsert(conn, tables["bookings"], [{"id": ..., "version": ...}], newer="version")

The runner creates the tables (suffix "" for the live view, a unique suffix while
rebuilding), calls `process_page` inside the transaction that also moves the tracking
position, and swaps rebuilt tables in under the canonical names. Queries use the canonical
tables: `runner.tables("bookings")["bookings"]`, or `ViewTables(BookingsView())` without a
runner. Pass `metadata`'s naming convention through (don't name indexes or constraints by
hand) so their names carry the suffix and a rebuild never collides with the live view.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import Connection, Engine, MetaData, Table, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from projections import staged
from projections.bulk import pg_upsert
from projections.fresh_tables import UPSERT_OPTION, take_new

WRITE_OPTION = "rentbook_write"  # execution option: SQLite begins with BEGIN IMMEDIATE

# Every generated name includes the (suffixed) table name, so fresh tables never collide.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


# (projection class) -> its live tables, for the views of this package. Their definitions
# depend on the class alone (no view's `define_tables` reads instance state), and defining
# every view's tables costs ~0.14 s of CPU: paid once per process, not by every runner and
# reader (each test's container builds both). Callers only read these objects.
_CANONICAL: dict[type, tuple[MetaData, dict[str, Table]]] = {}
_CANONICAL_LOCK = threading.Lock()


def canonical_tables(projection: Projection) -> tuple[MetaData, dict[str, Table]]:
    """`projection`'s live tables (suffix "") and their metadata; shared within the process
    for this package's views, defined afresh for any other (a test's own view)."""
    kind = type(projection)
    if not kind.__module__.startswith("projections."):
        metadata = new_metadata()
        return metadata, projection.define_tables(metadata, "")
    with _CANONICAL_LOCK:
        if kind not in _CANONICAL:
            metadata = new_metadata()
            _CANONICAL[kind] = metadata, projection.define_tables(metadata, "")
        return _CANONICAL[kind]


# The events of these streams a view has applied, decoded now (an erased subject's sealed
# fields read as erased), in log order, with their positions: what an erasure replays.
Replay = Callable[[Collection[UUID]], list[tuple[object, int]]]


class Projection(ABC):
    """One read model: its tables and how events change them."""

    name: ClassVar[str]  # e.g. "bookings"; also the tracking key
    topics: ClassVar[tuple[str, ...]] = ()  # event class topics of interest; () = every event
    version: ClassVar[int] = 1  # bump to rebuild the view from position 0 on next start
    # (logical table, column) the view looks rows up by while it applies events, other than
    # keys: a rebuild creates those indexes up front and builds the rest after its first pass
    folds_by: ClassVar[tuple[tuple[str, str], ...]] = ()
    # True: `process_page` also takes stored events (`Notification`s, state as plain JSON
    # bytes) in place of decoded ones, mixed in one page: when the store's states are plain
    # JSON (`projections/stored.py`) it gets the events other views had decoded anyway and
    # the stored ones of the rest, which nothing decodes for it
    reads_stored: ClassVar[bool] = False
    # The topics whose personal fields (`domain/personal_data.py`) the view reads; None: it
    # may read any. A rebuild hands the events of the other personal topics it takes, where
    # no view of the pass reads them, built light with those fields erased
    # (`projections/light.py`): no key is fetched or envelope opened for them.
    reads_personal: ClassVar[frozenset[str] | None] = None

    @abstractmethod
    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        """Logical name -> Table named f"{logical}{suffix}" in `metadata`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        below = cls.__mro__[: cls.__mro__.index(Projection)]
        if not any("process" in vars(k) or "process_page" in vars(k) for k in below):
            raise TypeError(f"{cls.__name__} must override process or process_page")

    def process(
        self, conn: Connection, tables: dict[str, Table], event: object, position: int
    ) -> None:
        """Applies one event. Must be an idempotent upsert keyed by id and version.
        Override this or `process_page` (each defaults to the other)."""
        self.process_page(conn, tables, [(event, position)])

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        """Applies a page of (event, position) in one transaction. Override to collect rows
        and write them with one `upsert` per table: that is what makes rebuilds fast."""
        for event, position in events:
            self.process(conn, tables, event, position)

    def repair_erasure(
        self, conn: Connection, tables: dict[str, Table], subject: UUID, replay: Replay
    ) -> bool:
        """After `subject`'s keys were destroyed, rewrites (in the caller's transaction) the
        rows their sealed personal fields fed, as a rebuild from position 0 would now write
        them: found through the view's own rows (ids of the subject), so the work follows
        the subject's data, not the log. False: the view cannot, and is rebuilt instead.
        A view that reads no personal field (`reads_personal` empty) has nothing to do."""
        return self.reads_personal == frozenset()


class ViewTables(Mapping[str, Table]):
    """The live (canonical) tables of a projection, for queries."""

    def __init__(self, projection: Projection) -> None:
        self.metadata, self._tables = canonical_tables(projection)

    def __getitem__(self, key: str) -> Table:
        return self._tables[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


def read_topics(topic_sets: Sequence[frozenset[str]]) -> tuple[str, ...]:
    """The topics one read of the log must select to serve views wanting these: their union,
    or () — every topic — as soon as one view wants every event."""
    if not all(topic_sets):
        return ()
    return tuple(sorted(frozenset[str]().union(*topic_sets)))


DDL_LOCK = 0x52424B44  # "RBKD": one process at a time creates tables at start-up


def create_tables(conn: Connection, metadata: MetaData) -> None:
    """`metadata.create_all` (missing tables only) in the caller's transaction, safe when
    several processes start at once: on PostgreSQL two concurrent CREATE TABLEs of one name
    collide in the catalog (`pg_type`), so creators queue on an advisory lock first and the
    later ones find the tables made."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DDL_LOCK})
    metadata.create_all(conn, checkfirst=True)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write (on SQLite it takes the write lock up front)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def upsert(
    conn: Connection,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str] | None = None,
    newer: str | None = None,
    add: Sequence[str] = (),
    keep_existing: bool = False,
) -> int:
    """Inserts rows or updates them by `key` (default: the primary key) in bulk.

    Rows for the same key are merged first, later values winning (a page may touch one
    aggregate several times; PostgreSQL refuses to update a row twice in one statement).
    With `newer="version"` an existing row changes only if the incoming version is higher,
    which makes replays no-ops. `add` columns are counters: merged rows and existing rows
    sum them. `keep_existing` never updates (rows written once, e.g. a log). On PostgreSQL
    each shape of row is one `INSERT ... SELECT FROM unnest(arrays)` (`projections/bulk.py`).
    Returns the number of distinct rows written.
    """
    key = tuple(key or (c.name for c in table.primary_key.columns))
    single = key[0] if len(key) == 1 else None
    # Callers' dicts are kept as they are until a second row of their key needs merging.
    merged: dict[Any, Mapping[str, Any]] = {}
    for row in rows:
        k = row[single] if single is not None else tuple(row[c] for c in key)
        kept = merged.get(k)
        if kept is None:
            merged[k] = row
        elif keep_existing:
            continue
        elif add:
            both = {**kept, **{c: v for c, v in row.items() if c not in add}}
            for c in add:
                both[c] = kept.get(c, 0) + row.get(c, 0)
            merged[k] = both
        else:
            merged[k] = {**kept, **row}
    written = len(merged)
    pg = conn.dialect.name == "postgresql"
    # a rebuild's fresh table: its new keys by COPY (`projections/fresh_tables.py`)
    merged = take_new(conn, table, key, merged)
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in merged.values():
        shape = tuple(row)
        group = groups.get(shape)
        if group is None:
            groups[shape] = [row]
        else:
            group.append(row)
    for columns, group in groups.items():
        if pg:
            # a large page through a staging table by COPY (`projections/staged.py`)
            write = staged.pg_staged_upsert if len(group) >= staged.STAGE_ROWS else pg_upsert
            write(
                conn, table, columns, group, key=key, newer=newer, add=add,
                keep_existing=keep_existing,
            )  # fmt: skip
            continue
        # One cached statement per shape, run as executemany: compiling a fresh multi-row
        # VALUES statement per chunk cost more than the database's own work.
        stmt = _upsert_statement(conn.dialect.name, table, columns, key, newer, add, keep_existing)
        conn.execute(stmt, group, execution_options={UPSERT_OPTION: True})
    return written


_statements: dict[tuple[Any, ...], Any] = {}


def _upsert_statement(
    dialect: str,
    table: Table,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    newer: str | None,
    add: Sequence[str],
    keep_existing: bool,
) -> Any:
    cache_key = (dialect, id(table), columns, key, newer, tuple(add), keep_existing)
    cached = _statements.get(cache_key)
    if cached is not None and cached[0] is table:
        return cached[1]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table)
    updates = {
        c: table.c[c] + stmt.excluded[c] if c in add else stmt.excluded[c]
        for c in columns
        if c not in key
    }
    if keep_existing or not updates:
        result = stmt.on_conflict_do_nothing(index_elements=list(key))
    else:
        where = table.c[newer] < stmt.excluded[newer] if newer else None
        result = stmt.on_conflict_do_update(index_elements=list(key), set_=updates, where=where)
    _statements[cache_key] = (table, result)
    return result
