"""The runner tests' event store and view database, one pair per test: on SQLite (`store`,
`engine`), or on SQLite and then PostgreSQL (`backend`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from tests.projections.helpers import store_and_views


@pytest.fixture
def store(sqlite_settings: Settings) -> EventStore:
    return build_event_store(sqlite_settings)


@pytest.fixture
def engine(sqlite_settings: Settings) -> Iterator[Engine]:
    engine = create_views_engine(views_url(sqlite_settings))
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[EventStore, Engine]]:
    if request.param == "sqlite":
        settings: Settings = request.getfixturevalue("sqlite_settings")
    else:
        url = request.getfixturevalue("pg_url")
        settings = Settings(environment="test", database_url=url, data_dir=tmp_path / "var")
    with store_and_views(settings) as opened:
        yield opened
