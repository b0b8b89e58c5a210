"""Views with one row per aggregate, folded by a pure `fold(row, event)`.

Every event's row is loaded first (created ones too), so a replayed page finds its
versions already applied and `fold` returns None for them.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

from sqlalchemy import Connection, Table, delete, select

from projections.base import Projection, Replay, upsert
from projections.bulk import pg_select_in
from projections.event_kinds import Kinds
from projections.fresh_tables import may_hold

CHUNK = 5000  # ids per IN (...) query


def load_rows(
    conn: Connection, table: Table, ids: Iterable[Any], *, key: str = "id"
) -> dict[Any, dict[str, Any]]:
    """The existing rows for `ids`, keyed by `key`, as mutable dicts."""
    wanted = may_hold(table, key, list(set(ids)))  # a rebuild's new rows: no look-up
    found: dict[Any, dict[str, Any]] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        if conn.dialect.name == "postgresql":  # one array parameter: one cached statement
            found.update((row[key], row) for row in pg_select_in(conn, table, key, chunk))
            continue
        rows = conn.execute(select(table).where(table.c[key].in_(chunk))).mappings()
        for row in rows:
            found[row[key]] = dict(row)
    return found


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`items` in lists of at most `size`, for IN (...) queries of bounded length."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


_row_kinds: dict[type, Kinds] = {}


def _kinds(view: RowPerAggregate) -> Kinds:
    """The view class's `row_events` as a remembered class check (one per view class)."""
    kinds = _row_kinds.get(type(view))
    if kinds is None:
        kinds = _row_kinds[type(view)] = Kinds(*view.row_events)
    return kinds


class RowPerAggregate(Projection):
    row_table: ClassVar[str]  # logical table name
    row_events: ClassVar[tuple[type, ...]]  # the event classes `fold` understands
    row_key: ClassVar[str] = "id"  # column holding the aggregate id
    row_newer: ClassVar[str] = "version"  # column an update must increase

    @abstractmethod
    def fold(self, row: dict[str, Any] | None, event: Any) -> dict[str, Any] | None:
        """The row after `event`; None when nothing changes (e.g. already applied)."""

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        table = tables[self.row_table]
        ours: list[Any] = [e for e, _ in events if _kinds(self)(e)]
        rows = load_rows(conn, table, {e.originator_id for e in ours}, key=self.row_key)
        changed: dict[Any, dict[str, Any]] = {}
        for event in ours:
            row = self.fold(rows.get(event.originator_id), event)
            if row is not None:
                rows[event.originator_id] = changed[event.originator_id] = row
        upsert(conn, table, changed.values(), newer=self.row_newer)

    def refold(
        self, conn: Connection, tables: dict[str, Table], ids: Iterable[Any], replay: Replay
    ) -> None:
        """These aggregates' rows made again from their streams (an erasure's repair)."""
        table = tables[self.row_table]
        for chunk in chunks(set(ids), CHUNK):
            conn.execute(delete(table).where(table.c[self.row_key].in_(chunk)))
            self.process_page(conn, tables, replay(chunk))
