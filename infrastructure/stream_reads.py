"""Reading streams from PostgreSQL with fewer round trips and less per row.

`select_streams`: several streams in ONE query, each either from its latest snapshot (a
cold load: the library reads the snapshot, then the tail, two round trips per stream) or
after a version (a cached state brought up to date; see `application.aggregate_cache`).
A placement reads its listing and calendar with it. Identical reads from concurrent threads
share one query (`infrastructure.shared_reads`: never one that started before they asked).

`select_events`: the library's query, but only the four columns a `StoredEvent` holds (not
the hash), as tuples, in binary. Same bounds, order and limit.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Identifier

from infrastructure.shared_reads import SharedReads

_COLUMNS = "originator_id, originator_version, topic, state"
# Wanted streams with the version to read after (NULL: from the latest snapshot); their
# snapshots (kind true) then their events (kind false). `OFFSET 0` keeps each LATERAL
# subquery a per-stream index range scan on the primary key (else the planner may pull it
# up into a hash join over the whole events table).
_STREAMS = (
    "WITH wanted AS (SELECT * FROM unnest(%s::uuid[], %s::bigint[]) AS t(id, after)), "
    "snaps AS ({snapshots}) "
    "SELECT true, id, originator_version, topic, state FROM snaps "
    "UNION ALL "
    "SELECT false, e.* FROM (SELECT w.id, COALESCE(w.after, s.originator_version, 0) AS after "
    "FROM wanted w LEFT JOIN snaps s ON s.id = w.id) AS w "
    "CROSS JOIN LATERAL (SELECT " + _COLUMNS + " FROM {events} "
    "WHERE originator_id = w.id AND originator_version > w.after OFFSET 0) AS e "
    "ORDER BY 1 DESC, 2, 3"
)
_SNAPSHOTS = (
    "SELECT w.id, s.originator_version, s.topic, s.state FROM wanted w "
    "CROSS JOIN LATERAL (SELECT originator_version, topic, state FROM {table} "
    "WHERE originator_id = w.id ORDER BY originator_version DESC LIMIT 1) AS s "
    "WHERE w.after IS NULL"
)
_NO_SNAPSHOTS = (
    "SELECT NULL::uuid AS id, NULL::bigint AS originator_version, NULL::text AS topic, "
    "NULL::bytea AS state WHERE false"
)


class LeanStreamReads:
    """Mixed into a `PostgresApplicationRecorder`. Statements are composed and rendered
    once per recorder (composing `psycopg.sql` objects per call was a tenth of a busy
    placement's samples)."""

    datastore: Any
    events_table_name: str

    def select_streams(
        self,
        wanted: Sequence[tuple[UUID, int | None]],
        snapshots_table: str | None,
        before: Callable[[], object] | None = None,
    ) -> dict[UUID, tuple[StoredEvent | None, list[StoredEvent]]]:
        """For each (stream, version): its events after `version`; with None for the version,
        its latest snapshot (from `snapshots_table`, if any) and the events after that.
        The answer may be shared with concurrent callers: read it, never change it.
        `before`: called right before the query by whichever caller runs it (to wait for
        saves of these streams under way, so that every caller sharing it reads them)."""
        shared: SharedReads[dict[UUID, tuple[StoredEvent | None, list[StoredEvent]]]]
        shared = self.__dict__.setdefault("_shared_reads", SharedReads())
        key = (tuple(wanted), snapshots_table)

        def fetch() -> dict[UUID, tuple[StoredEvent | None, list[StoredEvent]]]:
            if before is not None:
                before()
            return self._select_streams(wanted, snapshots_table)

        return shared.read(key, fetch)

    def _select_streams(
        self, wanted: Sequence[tuple[UUID, int | None]], snapshots_table: str | None
    ) -> dict[UUID, tuple[StoredEvent | None, list[StoredEvent]]]:
        params = [[stream for stream, _ in wanted], [version for _, version in wanted]]
        rows = self._tuples(
            ("streams", snapshots_table), lambda: self._streams_statement(snapshots_table), params
        )
        streams: dict[UUID, list[StoredEvent]] = {stream: [] for stream, _ in wanted}
        snapshots: dict[UUID, StoredEvent] = {}
        for is_snapshot, oid, version, topic, state in rows:
            row = StoredEvent(
                originator_id=oid, originator_version=version, topic=topic, state=state
            )
            if is_snapshot:
                snapshots[oid] = row
            else:
                streams[oid].append(row)
        return {stream: (snapshots.get(stream), events) for stream, events in streams.items()}

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        params: list[Any] = [originator_id]
        params += [bound for bound in (gt, lte, limit) if bound is not None]
        shape = (gt is not None, lte is not None, desc, limit is not None)
        rows = self._tuples(("events", shape), lambda: self._events_statement(*shape), params)
        return [
            StoredEvent(originator_id=oid, originator_version=version, topic=topic, state=state)
            for oid, version, topic, state in rows
        ]

    def _table(self, name: str) -> Composable:
        return SQL("{schema}.{table}").format(
            schema=Identifier(self.datastore.schema), table=Identifier(name)
        )

    def _streams_statement(self, snapshots_table: str | None) -> Composable:
        snapshots = (
            SQL(_SNAPSHOTS).format(table=self._table(snapshots_table))
            if snapshots_table
            else SQL(_NO_SNAPSHOTS)
        )
        return SQL(_STREAMS).format(snapshots=snapshots, events=self._table(self.events_table_name))

    def _events_statement(self, gt: bool, lte: bool, desc: bool, limit: bool) -> Composable:
        statement = SQL("SELECT {columns} FROM {table} WHERE originator_id = %s").format(
            columns=SQL(_COLUMNS), table=self._table(self.events_table_name)
        )
        if gt:
            statement += SQL(" AND originator_version > %s")
        if lte:
            statement += SQL(" AND originator_version <= %s")
        statement += SQL(" ORDER BY originator_version " + ("DESC" if desc else "ASC"))
        if limit:
            statement += SQL(" LIMIT %s")
        return statement

    def _tuples(
        self, key: Hashable, build: Callable[[], Composable], params: list[Any]
    ) -> list[tuple[Any, ...]]:
        rendered: dict[Hashable, bytes] = self.__dict__.setdefault("_rendered_statements", {})
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            query = rendered.get(key)
            if query is None:
                query = rendered[key] = build().as_bytes(conn)
            curs.execute(query, params, prepare=True)
            return curs.fetchall()
