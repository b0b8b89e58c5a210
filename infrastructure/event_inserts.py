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

`insert_events_checked` also takes the version each of some streams must still be at (what a
save decided on without reading: see `application.group_commit`): ONE statement checks them
after the table lock, so no other writer commits in between, and inserts only if all hold;
else it inserts nothing and names the streams that moved (the implicit transaction then
commits nothing; a bare NOTIFY only wakes followers that find no new event, and a stream
notice is not sent at all).

With `stream_notices` set (a token naming this recorder), the NOTIFY carries the streams the
commit wrote, each with its last version (`infrastructure.stream_notices`): other API
workers then know their cached states of those streams are behind without reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.utils import retry
from psycopg.abc import Query
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Identifier, Literal
from psycopg.types.numeric import Int8

from application.group_commit import StaleStreamsError
from infrastructure.stream_notices import notice_payload

# `%b`, not `%s`: with `%s` psycopg dumps a list as a TEXT array even on a binary cursor,
# every state's bytes hex-encoded, quoted and backslash-escaped by a regular expression
# (`ListDumper._dump_list`: 3% of POST /bookings' GIL-held samples; converting the
# parameters of a 2-event save took ~470 µs against ~150 µs in binary).
_INSERT = (
    "INSERT INTO {table} (originator_id, originator_version, topic, state) "
    "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
    "RETURNING notification_id"
)
# The checked insert: `stale` lists the checked streams whose latest version is not the
# expected one (0: no event yet; `max` is one backward step of the primary key per stream);
# the INSERT runs only when it is empty. Ids come back ordered: one sequence, rows in order.
_CHECKED_INSERT = (
    "WITH stale AS (SELECT c.id, c.v FROM unnest(%b::uuid[], %b::bigint[]) AS c(id, v) "
    "WHERE COALESCE((SELECT max(originator_version) FROM {table} "
    "WHERE originator_id = c.id), 0) <> c.v), "
    "ins AS (INSERT INTO {table} (originator_id, originator_version, topic, state) "
    "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
    "WHERE NOT EXISTS (SELECT FROM stale) RETURNING notification_id) "
    "SELECT notification_id, NULL::uuid, NULL::bigint FROM ins "
    "UNION ALL SELECT NULL::bigint, id, v FROM stale ORDER BY 1"
)
# With stream notices, the notice goes in the same statement, sent only if nothing is stale: a
# rejected group's notice would name versions nobody wrote, and the other workers would
# distrust their current entries until someone did. Its row (all NULL) sorts last.
_CHECKED_NOTICE = (
    _CHECKED_INSERT.removesuffix(" ORDER BY 1").replace(
        "RETURNING notification_id) ",
        "RETURNING notification_id), "
        "note AS (SELECT pg_notify({channel}, %s) WHERE NOT EXISTS (SELECT FROM stale)) ",
    )
    + " UNION ALL SELECT NULL::bigint, NULL::uuid, NULL::bigint FROM note ORDER BY 1"
)


class LeanEventInserts:
    """Mixed into a `PostgresApplicationRecorder` (before it, so this `insert_events` wins).
    `lock_table_statements` must work outside a BEGIN block: `set_config(..., true)`, not
    `SET LOCAL`, and `LOCK TABLE` only inside a function."""

    datastore: Any
    events_table_name: str
    channel_name: str
    lock_table_statements: list[Query]
    # This recorder's token: its commits' NOTIFY names the streams they wrote; None: bare.
    stream_notices: str | None = None

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
                    self._notify(curs, notify, stored_events)
                    curs.execute(insert, params, prepare=True)
                return [row[0] for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events_checked(
        self, stored_events: Sequence[StoredEvent], checks: Sequence[tuple[UUID, int]]
    ) -> Sequence[int]:
        """`insert_events`, if every (stream, version) in `checks` is still the stream's
        latest version (0: empty) once the table is locked; else `StaleStreamsError`."""
        if not checks:
            return self.insert_events(stored_events) or []
        params: tuple[Any, ...] = (
            [_uuid(stream) for stream, _ in checks],
            [Int8(version) for _, version in checks],
            [_uuid(e.originator_id) for e in stored_events],
            [Int8(e.originator_version) for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        token = self.stream_notices
        if token is not None:  # the notice rides in the checked statement (`_CHECKED_NOTICE`)
            params = (*params, notice_payload(token, stored_events))
        with self.datastore.get_connection() as conn:
            assert conn.autocommit
            locks, notify, _ = self._insert_statements(conn)
            checked = self._checked_statement(conn, noticed=token is not None)
            with conn.cursor(row_factory=tuple_row, binary=True) as curs:
                with conn.pipeline():
                    for lock in locks:
                        curs.execute(lock, prepare=True)
                    if token is None:
                        curs.execute(notify, prepare=False)
                    curs.execute(checked, params, prepare=True)
                rows = curs.fetchall()
        stale = {(stream, version) for _, stream, version in rows if stream is not None}
        if stale:
            raise StaleStreamsError(stale)
        return [notification_id for notification_id, _, _ in rows if notification_id is not None]

    def _notify(self, curs: Any, notify: bytes, stored_events: Sequence[StoredEvent]) -> None:
        token = self.stream_notices
        if token is None:
            curs.execute(notify, prepare=False)
        else:  # one prepared shape whatever the payload: `NOTIFY` takes only a literal
            payload = notice_payload(token, stored_events)
            curs.execute(self._notice_statement(curs.connection), (payload,), prepare=True)

    def _notice_statement(self, conn: Any) -> bytes:
        rendered: dict[str, bytes] = self.__dict__.setdefault("_rendered_notice", {})
        encoding = conn.info.encoding
        statement = rendered.get(encoding)
        if statement is None:
            statement = rendered[encoding] = (
                SQL("SELECT pg_notify({0}, %s)").format(Literal(self.channel_name)).as_bytes(conn)
            )
        return statement

    def _checked_statement(self, conn: Any, *, noticed: bool) -> bytes:
        rendered: dict[tuple[str, bool], bytes] = self.__dict__.setdefault("_rendered_checked", {})
        key = (conn.info.encoding, noticed)
        statement = rendered.get(key)
        if statement is None:
            table = SQL("{schema}.{table}").format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
            query = SQL(_CHECKED_NOTICE if noticed else _CHECKED_INSERT)
            channel = Literal(self.channel_name)
            statement = rendered[key] = query.format(table=table, channel=channel).as_bytes(conn)
        return statement

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
