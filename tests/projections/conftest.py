"""The runner tests' SQLite event store and view database (one pair per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine


@pytest.fixture
def store(sqlite_settings: Settings) -> EventStore:
    return build_event_store(sqlite_settings)


@pytest.fixture
def engine(sqlite_settings: Settings) -> Iterator[Engine]:
    engine = create_views_engine(views_url(sqlite_settings))
    yield engine
    engine.dispose()
