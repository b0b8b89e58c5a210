"""Event stores and view engines that several integration modules build the same way.

A module imports the fixtures it uses; they stay out of a conftest so that the generic names
they take (`store`, `engine`) reach only the modules that import them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
