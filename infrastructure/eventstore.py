"""Builds the event store from Settings: PostgreSQL when configured, else a SQLite file."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from eventsourcing.sqlite import SQLiteConnectionPool

from application.personal_keys import KeyRing
from application.store import EventStore
from infrastructure.settings import Settings
from infrastructure.stream_notices import new_token

HASHED_POSTGRES = "infrastructure.event_hashing:HashedPostgresRecorder"
HASHED_SQLITE = "infrastructure.event_hashing:HashedSQLiteRecorder"
POSTGRES_FACTORY = "infrastructure.postgres_factory:RentbookPostgresFactory"
SQLITE_WRITER_WAIT_S = 30.0  # how long a command waits for the SQLite store's one writer


def event_store_env(settings: Settings, *, as_owner: bool = False) -> dict[str, str]:
    """The library's environment. With a separate migration (owner) URL the application
    role never creates tables; `as_owner` builds the owner's store for `rentbook db migrate`."""
    if settings.database_url:
        owner_url = settings.migration_database_url if as_owner else None
        url = urlparse(owner_url or settings.database_url)
        own_tables = settings.create_event_tables and not settings.migration_database_url
        creates = "y" if as_owner or own_tables else "n"
        env = {
            "PERSISTENCE_MODULE": POSTGRES_FACTORY,
            "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(settings.postgres_max_overflow),
            "POSTGRES_CONN_MAX_AGE": "",
            "CREATE_TABLE": creates,
            "APPLICATION_RECORDER_TOPIC": HASHED_POSTGRES,
        }
        if settings.postgres_schema:
            env["POSTGRES_SCHEMA"] = settings.postgres_schema
        return env
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.data_dir / "events.db"),
        "SQLITE_LOCK_TIMEOUT": "10",
        "CREATE_TABLE": "y",
        "APPLICATION_RECORDER_TOPIC": HASHED_SQLITE,
    }


def build_event_store(settings: Settings, keyring: KeyRing | None = None) -> EventStore:
    """With the key ring personal fields are sealed (one on the view database by default)."""
    from infrastructure.master_keys import master_keys
    from infrastructure.observed_store import ObservedEventStore  # traced and counted saves
    from infrastructure.personal_keys import SqlKeyRing
    from infrastructure.views_db import create_views_engine

    if keyring is None:
        views = create_views_engine(views_url(settings), pool_size=2)
        keyring = SqlKeyRing(views, master_keys(settings))
    store = ObservedEventStore(
        env=event_store_env(settings),
        keyring=keyring,
        group_commit=settings.group_commit,
        group_window=settings.group_commit_window_ms / 1000,
        cache_size=settings.aggregate_cache_size,
        cache_bytes=int(settings.aggregate_cache_mb * 1_000_000),
    )
    if not settings.unread_placements and store.committer is not None:
        store.committer.checked_write = None  # every placement reads first
    if store.acts_on_cache and hasattr(store.recorder, "stream_notices"):
        # its commits name the streams they wrote, for the other workers' caches
        store.recorder.stream_notices = new_token()
    pool = getattr(getattr(store.recorder, "datastore", None), "pool", None)
    if isinstance(pool, SQLiteConnectionPool):
        # SQLite has one writer connection; the library gives up waiting for it after 5 s
        # (its PostgreSQL pools wait 30), which a busy machine's commands exceeded in tests.
        pool.pool_timeout = SQLITE_WRITER_WAIT_S
    return store


def views_url(settings: Settings) -> str:
    """SQLAlchemy URL of the view database (same PostgreSQL; a second SQLite file)."""
    if settings.database_url:
        url = settings.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.data_dir / 'views.db'}"
