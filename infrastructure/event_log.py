"""Reads the stored event log with its hashes, and the checkpoint table, straight from the
event store's database (the library's recorders do not expose the hash)."""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Identifier

from application.store import EventStore
from infrastructure.event_hashing import SQLITE_EVENTS_TABLE, SQLITE_HASHES_TABLE, checkpoints_table
from infrastructure.settings import Settings


@dataclass(frozen=True)
class LoggedEvent:
    notification_id: int
    stream_id: UUID
    version: int
    topic: str
    state: bytes
    hash: bytes | None


@dataclass(frozen=True)
class Checkpoint:
    checkpoint_id: int
    last_notification_id: int
    event_count: int
    hash: bytes


class EventLog(ABC):
    @abstractmethod
    def page(self, after: int, limit: int) -> list[LoggedEvent]:
        """Events with notification id > `after`, in log order."""

    @abstractmethod
    def position(self) -> int: ...

    @abstractmethod
    def stored_hash(self, stream_id: UUID, version: int) -> bytes | None: ...

    @abstractmethod
    def checkpoints(self) -> list[Checkpoint]: ...

    @abstractmethod
    def add_checkpoint(self, checkpoint: Checkpoint) -> bool:
        """Appends; False when another sealer took that checkpoint id first."""

    @abstractmethod
    def fill_hash(self, event: LoggedEvent, digest: bytes) -> None:
        """Records the hash of an event stored before hashing existed (owner only)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _bytes(value: Any) -> bytes:
    # SQLite columns take any type: an edited blob may come back as text.
    return value.encode() if isinstance(value, str) else bytes(value)


def _event(row: Any) -> LoggedEvent:
    nid, stream, version, topic, state, digest = row
    return LoggedEvent(
        nid,
        stream if isinstance(stream, UUID) else UUID(stream),
        version,
        topic,
        _bytes(state),
        _bytes(digest) if digest is not None else None,
    )


class PostgresEventLog(EventLog):
    def __init__(self, url: str, schema: str, table: str) -> None:
        self._conn = psycopg.connect(url, autocommit=True)
        self._events = SQL("{}.{}").format(Identifier(schema), Identifier(table))
        self._checkpoints = SQL("{}.{}").format(
            Identifier(schema), Identifier(checkpoints_table(table))
        )

    def page(self, after: int, limit: int) -> list[LoggedEvent]:
        rows = self._conn.execute(
            SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state, hash "
                "FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            ).format(self._events),
            (after, limit),
        ).fetchall()
        return [_event(r) for r in rows]

    def position(self) -> int:
        row = self._conn.execute(
            SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(self._events)
        ).fetchone()
        return int(row[0]) if row else 0

    def stored_hash(self, stream_id: UUID, version: int) -> bytes | None:
        row = self._conn.execute(
            SQL("SELECT hash FROM {} WHERE originator_id = %s AND originator_version = %s").format(
                self._events
            ),
            (stream_id, version),
        ).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._conn.execute(
            SQL(
                "SELECT checkpoint_id, last_notification_id, event_count, hash FROM {} "
                "ORDER BY checkpoint_id"
            ).format(self._checkpoints)
        ).fetchall()
        return [Checkpoint(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def add_checkpoint(self, checkpoint: Checkpoint) -> bool:
        cur = self._conn.execute(
            SQL(
                "INSERT INTO {} (checkpoint_id, last_notification_id, event_count, hash) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (checkpoint_id) DO NOTHING"
            ).format(self._checkpoints),
            (
                checkpoint.checkpoint_id,
                checkpoint.last_notification_id,
                checkpoint.event_count,
                checkpoint.hash,
            ),
        )
        return cur.rowcount == 1

    def fill_hash(self, event: LoggedEvent, digest: bytes) -> None:
        self._conn.execute(
            SQL("UPDATE {} SET hash = %s WHERE notification_id = %s AND hash IS NULL").format(
                self._events
            ),
            (digest, event.notification_id),
        )

    def close(self) -> None:
        self._conn.close()


class SqliteEventLog(EventLog):
    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, timeout=10, isolation_level=None)

    def page(self, after: int, limit: int) -> list[LoggedEvent]:
        rows = self._conn.execute(
            "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, h.hash "
            f"FROM {SQLITE_EVENTS_TABLE} e "
            f"LEFT JOIN {SQLITE_HASHES_TABLE} h ON h.notification_id = e.rowid "
            "WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?",
            (after, limit),
        ).fetchall()
        return [_event(r) for r in rows]

    def position(self) -> int:
        row = self._conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {SQLITE_EVENTS_TABLE}")
        return int(row.fetchone()[0])

    def stored_hash(self, stream_id: UUID, version: int) -> bytes | None:
        row = self._conn.execute(
            f"SELECT hash FROM {SQLITE_HASHES_TABLE} "
            "WHERE originator_id = ? AND originator_version = ?",
            (stream_id.hex, version),
        ).fetchone()
        return bytes(row[0]) if row else None

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._conn.execute(
            "SELECT checkpoint_id, last_notification_id, event_count, hash FROM checkpoints "
            "ORDER BY checkpoint_id"
        ).fetchall()
        return [Checkpoint(r[0], r[1], r[2], bytes(r[3])) for r in rows]

    def add_checkpoint(self, checkpoint: Checkpoint) -> bool:
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO checkpoints "
            "(checkpoint_id, last_notification_id, event_count, hash) VALUES (?, ?, ?, ?)",
            (
                checkpoint.checkpoint_id,
                checkpoint.last_notification_id,
                checkpoint.event_count,
                checkpoint.hash,
            ),
        )
        return cur.rowcount == 1

    def fill_hash(self, event: LoggedEvent, digest: bytes) -> None:
        self._conn.execute(
            f"INSERT OR IGNORE INTO {SQLITE_HASHES_TABLE} VALUES (?, ?, ?, ?)",
            (event.notification_id, event.stream_id.hex, event.version, digest),
        )

    def close(self) -> None:
        self._conn.close()


def open_event_log(settings: Settings, *, as_owner: bool = False) -> EventLog:
    """The event log of this deployment, read as the application role (or the owner)."""
    if settings.database_url:
        owner_url = settings.migration_database_url if as_owner else None
        return PostgresEventLog(
            owner_url or settings.database_url,
            settings.postgres_schema or "public",
            f"{EventStore.name.lower()}_events",
        )
    return SqliteEventLog(str(settings.data_dir / "events.db"))
