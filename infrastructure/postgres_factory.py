"""The library's PostgreSQL factory, with every table it creates made under our DDL lock.

API workers start together on an empty database: two concurrent CREATE TABLEs of one name
collide in PostgreSQL's catalog (pg_type), and a worker dies at start-up. The application
recorder already creates under the lock (`event_hashing`); the snapshots table comes from
the aggregate recorder, which a full run caught colliding ("type rentbook_snapshots already
exists")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresFactory

from projections.base import DDL_LOCK


def create_under_ddl_lock(datastore: Any, create: Callable[[], None]) -> None:
    """Runs `create` while a connection of its own holds the view tables' advisory lock."""
    kwargs = dict(getattr(datastore.pool, "kwargs", {}))
    kwargs.pop("row_factory", None)
    with psycopg.connect(**kwargs, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (DDL_LOCK,))
        create()  # the lock ends with the connection


class LockedAggregateRecorder(PostgresAggregateRecorder):
    def create_table(self) -> None:
        create_under_ddl_lock(self.datastore, super().create_table)


class RentbookPostgresFactory(PostgresFactory):
    aggregate_recorder_class = LockedAggregateRecorder
