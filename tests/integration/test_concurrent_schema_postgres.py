"""API workers start together: each creates the tables it needs if they are missing. Without
the advisory lock two concurrent CREATE TABLEs of one name collide in PostgreSQL's catalog
(UniqueViolation on pg_type) and a worker dies at start-up (seen with `rentbook serve
--workers 2`)."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, create_engine, inspect

from application.store import EventStore
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from interfaces.http.idempotency import create_table
from projections.base import create_tables, new_metadata, write_transaction
from projections.registry import all_projections

STARTERS = 8


def _race(engine: Engine, start: object) -> list[BaseException]:
    barrier, errors = threading.Barrier(STARTERS), []

    def starter() -> None:
        try:
            barrier.wait()
            start(engine)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=starter) for _ in range(STARTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_workers_creating_the_same_tables_at_once_all_start(pg_url: str) -> None:
    url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_size=STARTERS)
    metadata = new_metadata()
    for projection in all_projections():
        projection.define_tables(metadata, "")

    def start(engine: Engine) -> None:
        create_table(engine)
        with write_transaction(engine) as conn:
            create_tables(conn, metadata)

    try:
        assert _race(engine, start) == []
        names = set(inspect(engine).get_table_names())
        assert "http_idempotency_keys" in names and set(metadata.tables) <= names
    finally:
        engine.dispose()


def test_workers_creating_the_event_store_at_once_all_start(pg_settings: Settings) -> None:
    """The library's CREATE OR REPLACE of the hash trigger and lock functions collided as
    "tuple concurrently updated" when two workers started together."""
    # One connection each: eight stores at the default pool would open 32+ of the server's
    # 100 beside the other worker's tests (a CI run failed with "too many clients").
    small = pg_settings.model_copy(update={"postgres_pool_size": 1, "postgres_max_overflow": 0})
    stores: list[EventStore] = []

    def start(_engine: object) -> None:
        stores.append(build_event_store(small))

    try:
        assert _race(None, start) == []  # type: ignore[arg-type]
        assert len(stores) == STARTERS
    finally:
        for store in stores:
            store.close()
