"""The rebuild = incremental property on PostgreSQL, where views write each page as arrays
(`INSERT ... SELECT FROM unnest`, `projections/bulk.py`) rather than row by row: for random
command sequences every view, caught up after each step in small pages, equals the same
view rebuilt view by view and all views in one pass."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from infrastructure.views_db import create_views_engine
from tests.conftest import PG_ADMIN_URL, _with_db
from tests.projections.helpers import every_view
from tests.properties.test_rebuild_equals_incremental import check, commands

pytestmark = pytest.mark.postgres


@contextlib.contextmanager
def fresh_views_engine() -> Iterator[Engine]:
    name = f"rentbook_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_views_engine(_with_db(PG_ADMIN_URL, name), pool_size=2)
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(commands, min_size=1, max_size=14))
def test_rebuilt_views_equal_incremental_views_on_postgres(steps: list[tuple[Any, ...]]) -> None:
    with fresh_views_engine() as engine:
        check(steps, engine, snap=every_view)
