"""The stored events `application.ledger.verify` reads, straight from PostgreSQL.

The library's `select_notifications` selects every column (the hash too), builds a dict per
row, a `UUID` per originator id and a `Notification` per event; verification needs five
values as tuples, the id as text. Binary results skip text parsing of bytea and integers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from application.ledger_lines import EventRows, RawEvent
from application.store import EventStore

PAGE = 5000  # positions per query: a range, so PostgreSQL sorts only its own rows


def event_rows(store: EventStore) -> EventRows | None:
    """A fast `EventRows` when the store is on PostgreSQL; None (the generic reader) if not."""
    recorder = store.recorder
    if not isinstance(recorder, PostgresApplicationRecorder):
        return None
    datastore = recorder.datastore
    query = SQL(
        "SELECT notification_id, originator_id::text, originator_version, topic, state "
        "FROM {schema}.{table} WHERE notification_id > %s AND notification_id <= %s "
        "AND topic = ANY(%s) ORDER BY notification_id"
    ).format(schema=Identifier(datastore.schema), table=Identifier(recorder.events_table_name))

    def rows(topics: Sequence[str], after: int, stop: int) -> Iterator[RawEvent]:
        while after < stop:
            end = min(after + PAGE, stop)
            # A connection per page: none is held while the caller works on the rows.
            with (
                datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row, binary=True) as cur,
            ):
                cur.execute(query, (after, end, list(topics)))
                page: list[RawEvent] = cur.fetchall()
            yield from page
            after = end

    return rows
