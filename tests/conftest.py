"""Shared fixtures: fresh PostgreSQL databases and Redis namespaces per test, dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from infrastructure.settings import Settings
from tests.store_templates import PgTemplates, SqliteTemplates

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

PG_ADMIN_URL = os.environ.get(
    "RENTBOOK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("RENTBOOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _with_db(url: str, dbname: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + dbname


class _Dropper:
    """Drops the tests' databases in a thread of its own: a DROP DATABASE waits for the
    server's checkpoint and its backends' exit (about half a second on the shared server),
    which need not hold up the next test."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="pg-drop")
        self._drops: list[Future[None]] = []

    def drop(self, name: str) -> None:
        self._drops.append(self._pool.submit(self._drop, name))

    @staticmethod
    def _drop(name: str) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def finish(self) -> None:
        """Waits for every drop; raises the first that failed."""
        self._pool.shutdown(wait=True)
        for drop in self._drops:
            drop.result()


@pytest.fixture(scope="session")
def _pg_dropper() -> Iterator[_Dropper]:
    dropper = _Dropper()
    yield dropper
    dropper.finish()  # every database is gone before the session ends


@pytest.fixture
def pg_url(_pg_dropper: _Dropper) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test."""
    name = f"rentbook_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(PG_ADMIN_URL, name)
    finally:
        _pg_dropper.drop(name)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the real Redis; its keys are deleted after."""
    import redis

    prefix = f"rentbook-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_TEST_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_url() -> str:
    return REDIS_TEST_URL


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "var")


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    """Empty stores to copy into a test's data directory (`tests/store_templates.py`)."""
    return SqliteTemplates(tmp_path_factory.mktemp("store-templates"))


def _pg_test_settings(url: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=url,
        redis_url=redis_url,
        redis_key_prefix=redis_prefix,
        data_dir=tmp_path / "var",
        postgres_pool_size=4,  # the shared server allows 100 connections in all
        postgres_max_overflow=8,
    )


@pytest.fixture
def pg_settings(pg_url: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return _pg_test_settings(pg_url, redis_url, redis_prefix, tmp_path)


@pytest.fixture(scope="session")
def pg_templates(
    _pg_dropper: _Dropper, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgTemplates]:
    templates = PgTemplates(PG_ADMIN_URL, tmp_path_factory.mktemp("pg-templates"))
    yield templates
    for name in templates.names:
        _pg_dropper.drop(name)


@pytest.fixture
def pg_store_settings(
    pg_templates: PgTemplates,
    _pg_dropper: _Dropper,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> Iterator[Settings]:
    """`pg_settings` on a fresh database that already has the store's empty tables."""
    name = f"rentbook_t_{uuid.uuid4().hex[:12]}"
    shape = _pg_test_settings(PG_ADMIN_URL, redis_url, redis_prefix, tmp_path)
    try:
        yield pg_templates.clone(name, shape)
    finally:
        _pg_dropper.drop(name)


# The payments, ledger and disputes tests' store, SQLite and PostgreSQL (`tests/money_stores.py`).
from tests.money_stores import money_store  # noqa: E402, F401

# Which tests share an xdist worker under scripts/test.sh (`tests/xdist_groups.py`).
from tests.xdist_groups import pytest_configure, pytest_xdist_make_scheduler  # noqa: E402, F401
