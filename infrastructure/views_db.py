"""The view database: a SQLAlchemy engine tuned for projections writing and the API reading.

SQLite gets real transactions (pysqlite's implicit ones do not cover DDL, and a rebuild
swaps tables inside one), WAL so readers never block the writer, and `BEGIN IMMEDIATE`
for writers so concurrent projection threads queue on `busy_timeout` instead of failing
with SQLITE_BUSY when a read transaction is upgraded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from infrastructure.settings import Settings
from projections.base import WRITE_OPTION

SQLITE_BUSY_TIMEOUT_MS = 10_000


def views_overflow(settings: Settings) -> int | None:
    """The views engine's overflow: as set, else none in one of several API workers (each
    would open and close up to 20 more connections per burst), else the default. The
    process running the background workers (serve's parent) keeps it."""
    if settings.views_max_overflow is not None:
        return settings.views_max_overflow
    several = (settings.api_workers or 1) > 1
    return 0 if several and not settings.workers_in_process else None


def create_views_engine(
    url: str, *, pool_size: int = 10, max_overflow: int | None = None, echo: bool = False
) -> Engine:
    """`max_overflow`: PostgreSQL only; None is twice the pool."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, pool_size=pool_size, echo=echo)
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size * 2 if max_overflow is None else max_overflow,
        pool_recycle=1800,
    )


def _sqlite_engine(url: str, *, pool_size: int, echo: bool) -> Engine:
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see "begin" below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Zeroes what a row loses within its page (no extra I/O): a destroyed or rewrapped
        # personal data key leaves no copy in the file (infrastructure/personal_key_table.py).
        cur.execute("PRAGMA secure_delete=FAST")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # may wait, then fail as OperationalError
        else:  # takes no lock, cannot fail: on the DB-API connection, without SQLAlchemy's
            # statement machinery (~2x the rest of a read transaction's fixed cost)
            conn.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]

    return engine
