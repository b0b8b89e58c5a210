"""Writing events to PostgreSQL in one round trip, with less per save than the library does.

The library sends BEGIN, the table lock, NOTIFY and the INSERT, waits for them, then sends
COMMIT and waits again: two round trips, with the events table's exclusive lock held across
the second (every other writer of every process queues behind it). And it passes the events
as one array of a composite type, which psycopg dumps as text: every state's bytes escaped
in Python, a tenth of a placement's CPU.

Here the same statements go in one pipeline without BEGIN/COMMIT, ended by one Sync: the
server runs them as one implicit transaction, committed at the Sync if all succeeded and
rolled back (NOTIFY included) if any failed, so the outcome is the library's. The four
columns go as four arrays in binary (`unnest` zips them back into rows, in order), so the
INSERT has one shape, prepared once, whatever the number of events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.utils import retry
from psycopg.abc import Query
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Identifier
from psycopg.types.numeric import Int8

# `%b`, not `%s`: with `%s` psycopg dumps a list as a TEXT array even on a binary cursor,
# every state's bytes hex-encoded, quoted and backslash-escaped by a regular expression
# (`ListDumper._dump_list`: 3% of POST /bookings' GIL-held samples; converting the
# parameters of a 2-event save took ~470 µs against ~150 µs in binary).
_INSERT = (
    "INSERT INTO {table} (originator_id, originator_version, topic, state) "
    "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
    "RETURNING notification_id"
)


class LeanEventInserts:
    """Mixed into a `PostgresApplicationRecorder` (before it, so this `insert_events` wins).
    `lock_table_statements` must work outside a BEGIN block: `set_config(..., true)`, not
    `SET LOCAL`, and `LOCK TABLE` only inside a function."""

    datastore: Any
    events_table_name: str
    channel_name: str
    lock_table_statements: list[Query]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        params = (
            [_uuid(e.originator_id) for e in stored_events],
            [Int8(e.originator_version) for e in stored_events],  # always int8[]: one shape
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        with self.datastore.get_connection() as conn:
            assert conn.autocommit  # else the statements would join a transaction left open
            locks, notify, insert = self._insert_statements(conn)
            with conn.cursor(row_factory=tuple_row, binary=True) as curs:
                # Leaving the pipeline sends its one Sync: the commit, and a unique violation
                # raises there. (A `sync()` inside it cost a second round trip: the exit
                # always sends a Sync of its own and waits for it.)
                with conn.pipeline():
                    for lock in locks:  # first: notification ids are issued in commit order
                        curs.execute(lock, prepare=True)
                    curs.execute(notify, prepare=False)
                    curs.execute(insert, params, prepare=True)
                return [row[0] for row in curs.fetchall()]

    def _insert_statements(self, conn: Any) -> tuple[list[bytes], bytes, bytes]:
        rendered: dict[str, tuple[list[bytes], bytes, bytes]] = self.__dict__.setdefault(
            "_rendered_inserts", {}
        )
        encoding = conn.info.encoding
        statements = rendered.get(encoding)
        if statements is None:
            table = SQL("{schema}.{table}").format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
            statements = rendered[encoding] = (
                [_render(s, conn) for s in self.lock_table_statements],
                SQL("NOTIFY {0}").format(Identifier(self.channel_name)).as_bytes(conn),
                SQL(_INSERT).format(table=table).as_bytes(conn),
            )
        return statements


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _render(statement: Query, conn: Any) -> bytes:
    if isinstance(statement, Composable):
        return statement.as_bytes(conn)
    return statement if isinstance(statement, bytes) else str(statement).encode(conn.info.encoding)
