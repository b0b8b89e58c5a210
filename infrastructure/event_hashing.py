"""Tamper evidence at the event store: every stored event carries a SHA-256 hash chained to
the previous event of its stream.

The hash covers the previous hash (32 zero bytes for a stream's first event), the stream id
(16 bytes), the version and the notification id (8 bytes each, big-endian), the topic
(length-prefixed UTF-8) and the stored state, so editing, moving or dropping any of them
breaks the chain. PostgreSQL computes it in a BEFORE INSERT trigger, which the application
role cannot skip or forge (the trigger overwrites whatever hash an INSERT supplies); the
embedded SQLite store writes it to a side table in the same transaction as the event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg.sql import SQL, Identifier, Literal

from infrastructure.event_inserts import LeanEventInserts
from infrastructure.notification_reading import LeanNotificationReads
from infrastructure.postgres_factory import create_under_ddl_lock
from infrastructure.stream_reads import LeanStreamReads

GENESIS = bytes(32)
SQLITE_HASHES_TABLE = "event_hashes"
SQLITE_EVENTS_TABLE = "stored_events"


def event_hash(
    prev: bytes, stream_id: UUID, version: int, notification_id: int, topic: str, state: bytes
) -> bytes:
    """The chained hash of one stored event (the SQL trigger computes the same bytes)."""
    topic_bytes = topic.encode()
    return hashlib.sha256(
        prev
        + stream_id.bytes
        + version.to_bytes(8, "big", signed=True)
        + notification_id.to_bytes(8, "big", signed=True)
        + len(topic_bytes).to_bytes(4, "big")
        + topic_bytes
        + state
    ).digest()


def checkpoints_table(events_table: str) -> str:
    return f"{events_table}_checkpoints" if events_table != SQLITE_EVENTS_TABLE else "checkpoints"


def lock_function(events_table: str) -> str:
    return f"{events_table}_lock"


class HashedPostgresRecorder(
    LeanEventInserts, LeanStreamReads, LeanNotificationReads, PostgresApplicationRecorder
):
    """The library's recorder plus the hash column, its trigger, the checkpoint table and a
    lock function, all created with the tables (by the owner role when roles are split).

    The library serialises writers with `LOCK TABLE ... IN EXCLUSIVE MODE`, which PostgreSQL
    15 only allows to roles with UPDATE, DELETE or TRUNCATE. The application role has none of
    those, so it takes the same lock through a SECURITY DEFINER function owned by the owner.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(datastore.schema)
        table = Identifier(events_table_name)
        trigger_fn = Identifier(f"{events_table_name}_hash")
        lock_fn = Identifier(lock_function(events_table_name))
        names = {"schema": schema, "table": table, "fn": trigger_fn, "lock": lock_fn}
        literals = {
            "schema_name": Literal(datastore.schema),
            "table_name": Literal(events_table_name),
            "fn_name": Literal(f"{events_table_name}_hash"),
        }
        self.sql_create_statements += [
            SQL(_TRIGGER_FUNCTION).format(**names),
            SQL(_HASH_COLUMN_AND_TRIGGER).format(**names, **literals),
            SQL(_LOCK_FUNCTION).format(**names),
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{checkpoints} ("
                "checkpoint_id bigint PRIMARY KEY, "
                "last_notification_id bigint NOT NULL, "
                "event_count bigint NOT NULL, "
                "hash bytea NOT NULL, "
                "sealed_at timestamptz NOT NULL DEFAULT now())"
            ).format(schema=schema, checkpoints=Identifier(checkpoints_table(events_table_name))),
        ]
        # set_config(..., true), not SET LOCAL: these also run outside a BEGIN block (see
        # `infrastructure.event_inserts`), where SET LOCAL would only warn.
        self.lock_table_statements = [
            SQL("SELECT set_config('lock_timeout', {0}, true)").format(
                Literal(f"{datastore.lock_timeout}s")
            ),
            SQL("SELECT {schema}.{lock}()").format(**names),
        ]

    def create_table(self) -> None:
        # API workers start together: concurrent CREATE TYPE / CREATE OR REPLACE of one name
        # collide ("tuple concurrently updated", pg_type), so creators queue on the view
        # tables' advisory lock, held by a connection of its own for the whole creation.
        create_under_ddl_lock(self.datastore, super().create_table)


# Volatile (the default), so a multi-row INSERT sees the rows it inserted before this one;
# a fixed search_path, so functions the application role creates cannot stand in for these.
_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{fn}() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    prev bytea;
    topic_bytes bytea := convert_to(NEW.topic, 'UTF8');
BEGIN
    SELECT e.hash INTO prev FROM {schema}.{table} e
    WHERE e.originator_id = NEW.originator_id
      AND e.originator_version = NEW.originator_version - 1;
    NEW.hash := sha256(
        coalesce(prev, decode(repeat('00', 32), 'hex'))
        || uuid_send(NEW.originator_id)
        || int8send(NEW.originator_version)
        || int8send(NEW.notification_id)
        || int4send(octet_length(topic_bytes))
        || topic_bytes
        || NEW.state
    );
    RETURN NEW;
END
$$
"""

# Checked first, because ALTER TABLE and CREATE TRIGGER lock the table even when they end up
# changing nothing, and every process runs these statements when it starts.
_HASH_COLUMN_AND_TRIGGER = """
DO $do$
DECLARE
    events regclass := format('%I.%I', {schema_name}, {table_name})::regclass;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = events AND attname = 'hash' AND NOT attisdropped
    ) THEN
        ALTER TABLE {schema}.{table} ADD COLUMN hash bytea;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = events AND tgname = {fn_name}) THEN
        CREATE TRIGGER {fn} BEFORE INSERT ON {schema}.{table}
        FOR EACH ROW EXECUTE FUNCTION {schema}.{fn}();
    END IF;
END
$do$
"""

_LOCK_FUNCTION = """
CREATE OR REPLACE FUNCTION {schema}.{lock}() RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
END
$$
"""


class HashedSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder plus a side table of hashes written in the same
    transaction (the library's positional INSERT leaves no room for another column)."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = SQLITE_EVENTS_TABLE):
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {SQLITE_HASHES_TABLE} ("
            "notification_id INTEGER PRIMARY KEY, "
            "originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, "
            "hash BLOB NOT NULL, "
            "UNIQUE (originator_id, originator_version))",
            "CREATE TABLE IF NOT EXISTS checkpoints ("
            "checkpoint_id INTEGER PRIMARY KEY, "
            "last_notification_id INTEGER NOT NULL, "
            "event_count INTEGER NOT NULL, "
            "hash BLOB NOT NULL, "
            "sealed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs) or []
        for stored, notification_id in zip(stored_events, ids, strict=True):
            stream = UUID(str(stored.originator_id))
            c.execute(
                f"SELECT hash FROM {SQLITE_HASHES_TABLE} "
                "WHERE originator_id = ? AND originator_version = ?",
                (stream.hex, stored.originator_version - 1),
            )
            row = c.fetchone()
            prev = bytes(row["hash"]) if row else GENESIS
            digest = event_hash(
                prev, stream, stored.originator_version, notification_id, stored.topic, stored.state
            )
            c.execute(
                f"INSERT INTO {SQLITE_HASHES_TABLE} VALUES (?, ?, ?, ?)",
                (notification_id, stream.hex, stored.originator_version, digest),
            )
        return ids

    def select_stream_notifications(self, streams: Sequence[UUID]) -> Sequence[Notification]:
        """Every event of these streams with its log position, in log order (the events
        table's key is (originator_id, originator_version): an index look-up per stream)."""
        if not streams:
            return []
        marks = ",".join("?" * len(streams))
        statement = (
            f"SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE originator_id IN ({marks}) ORDER BY rowid"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, [s.hex for s in streams])
            return [
                Notification(
                    id=row["rowid"],
                    originator_id=self.convert_originator_id(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in c.fetchall()
            ]
