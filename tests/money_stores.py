"""The event store the payments, ledger and disputes tests run on: the embedded default
(SQLite) and PostgreSQL, as a parametrised fixture that `tests/conftest.py` offers every
test; the PostgreSQL half is marked `postgres` and takes a fresh database (`pg_url`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from application.store import EventStore
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def store_settings(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    data_dir = tmp_path / f"store-{kind}"
    if kind == "sqlite":
        return Settings(environment="test", data_dir=data_dir)
    return Settings(
        environment="test",
        database_url=request.getfixturevalue("pg_url"),
        data_dir=data_dir,
        postgres_pool_size=4,  # the shared server allows 100 connections in all
        postgres_max_overflow=8,
    )


@pytest.fixture(params=STORES)
def money_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    store = build_event_store(store_settings(request.param, tmp_path, request))
    try:
        yield store
    finally:
        store.close()


def is_postgres(store: EventStore) -> bool:
    return "postgres" in type(store.factory).__module__
