"""Two PostgreSQL roles: the owner creates the event store (`rentbook db migrate`); the
application role may only INSERT and SELECT the log, so no bug or stolen application
credential can rewrite history.

The read side (views, tracking, search and idempotency tables) belongs to the application
role: projections create and swap their tables on rebuild, which needs ownership, and every
row there can be regenerated from the log.
"""

from __future__ import annotations

from urllib.parse import unquote, urlparse

import psycopg
from psycopg.sql import SQL, Identifier

from application.store import EventStore
from infrastructure.audit_log import backfill_hashes
from infrastructure.event_hashing import checkpoints_table, lock_function
from infrastructure.event_log import open_event_log
from infrastructure.eventstore import event_store_env
from infrastructure.settings import Settings


def log_tables() -> tuple[str, str, str]:
    """The event store's tables: events, snapshots and checkpoints."""
    prefix = EventStore.name.lower()
    return f"{prefix}_events", f"{prefix}_snapshots", checkpoints_table(f"{prefix}_events")


def tracking_table() -> str:
    """Where processes that follow the log (the ledger) keep their position."""
    return f"{EventStore.name.lower()}_tracking"


def role_of(url: str) -> str:
    return unquote(urlparse(url).username or "postgres")


def migrate(settings: Settings) -> str | None:
    """Creates the event store's tables, trigger and functions as the owner (hashing any
    events stored before the chain existed), then grants the application role its
    append-only rights. Returns the role granted (None when one role
    does both, as in development)."""
    owned = EventStore(env=event_store_env(settings, as_owner=True))
    owned.factory.tracking_recorder()  # the ledger process's position: created here too
    owned.close()
    with open_event_log(settings, as_owner=True) as log:
        backfill_hashes(log)  # events stored before the hash chain existed
    owner, app = settings.migration_database_url, settings.database_url
    if owner and app and role_of(owner) != role_of(app):
        grant(settings)
        return role_of(app)
    return None


def grant(settings: Settings) -> None:
    """As the owner: the application role gets SELECT and INSERT on the log and nothing
    else there, and may create its own view tables in the schema."""
    if not (settings.migration_database_url and settings.database_url):
        raise ValueError("set RENTBOOK_DATABASE_URL and RENTBOOK_MIGRATION_DATABASE_URL")
    schema = Identifier(settings.postgres_schema or "public")
    app = Identifier(role_of(settings.database_url))
    events, snapshots, checkpoints = log_tables()
    with psycopg.connect(settings.migration_database_url) as conn:
        conn.execute(SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(schema, app))
        for table in (events, snapshots, checkpoints):
            name = SQL("{}.{}").format(schema, Identifier(table))
            conn.execute(SQL("REVOKE ALL ON {} FROM {}").format(name, app))
            conn.execute(SQL("GRANT SELECT, INSERT ON {} TO {}").format(name, app))
        sequence = conn.execute(
            "SELECT pg_get_serial_sequence(%s, 'notification_id')",
            (f"{settings.postgres_schema or 'public'}.{events}",),
        ).fetchone()
        assert sequence and sequence[0], "run `rentbook db migrate` first"
        conn.execute(SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(SQL(sequence[0]), app))
        # The ledger process records its position here: writable, like the views.
        tracking = SQL("{}.{}").format(schema, Identifier(tracking_table()))
        conn.execute(SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(tracking, app))
        lock = SQL("{}.{}()").format(schema, Identifier(lock_function(events)))
        conn.execute(SQL("REVOKE EXECUTE ON FUNCTION {} FROM PUBLIC").format(lock))
        conn.execute(SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(lock, app))
