"""Event stores and view engines that several integration modules build the same way.

A module imports the fixtures it uses; they stay out of a conftest so that the generic names
they take (`store`, `engine`) reach only the modules that import them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine


@pytest.fixture
def ledger_pg_settings(pg_url: str, tmp_path: Path) -> Settings:
    """The ledger tests' PostgreSQL store: no Redis, a small pool without overflow."""
    return Settings(
        environment="test",
        database_url=pg_url,
        data_dir=tmp_path / "var",
        postgres_pool_size=4,
        postgres_max_overflow=0,
    )


@pytest.fixture(name="store")
def ledger_pg_store(ledger_pg_settings: Settings) -> Iterator[EventStore]:
    store = build_event_store(ledger_pg_settings)
    yield store
    store.close()


@pytest.fixture(name="engine")
def ledger_pg_engine(ledger_pg_settings: Settings) -> Iterator[Engine]:
    engine = create_views_engine(views_url(ledger_pg_settings))
    yield engine
    engine.dispose()


def two_workers(settings: Settings) -> Iterator[tuple[EventStore, EventStore]]:
    """Worker A's and worker B's stores on one database, each with its aggregate cache (as
    `build_event_store` makes them); for a fixture to `yield from`."""
    a, b = build_event_store(settings), build_event_store(settings)
    assert a.aggregate_cache is not None and b.aggregate_cache is not None
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def pg_settings(pg_url: str, data_dir: Path, pool: int = 3, **more: Any) -> Settings:
    """A PostgreSQL test store's settings: `pool` connections and as many again in overflow
    (the server's 100 are shared by every test run at once), and `more`."""
    return Settings(
        environment="test",
        database_url=pg_url,
        data_dir=data_dir,
        postgres_pool_size=pool,
        postgres_max_overflow=pool,
        **more,
    )


@pytest.fixture(name="stores")
def two_pg_workers(pg_url: str, tmp_path: Path) -> Iterator[tuple[EventStore, EventStore]]:
    """`two_workers` on the test database, three connections each."""
    yield from two_workers(pg_settings(pg_url, tmp_path))
