"""An over-long string for a bounded view column: the three PostgreSQL write paths agree.

The unnest upsert (`bulk.pg_upsert`), a rebuild's fresh table by COPY (`fresh_tables`) and
the staged upsert (COPY into a staging table, `staged`) all refuse it with the same error
(SQLSTATE 22001), and store nothing; all cut trailing spaces past the length (SQL's rule for
varchar(n)); and an over-long key finds nothing rather than its prefix. SQLite enforces no
varchar length: it stores the string whole."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Column, Connection, Engine, Integer, MetaData, String, Table, Uuid
from sqlalchemy.exc import DBAPIError

from infrastructure.eventstore import views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections import fresh_tables
from projections.base import new_metadata, upsert, write_transaction
from projections.bulk import pg_select_in, pg_upsert
from projections.staged import pg_staged_upsert
from tests.projections.helpers import rows

LENGTH = 8
COLUMNS = ("id", "code", "version")


def _table(metadata: MetaData, name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("code", String(LENGTH), nullable=False),
        Column("version", Integer, nullable=False),
    )


def _unnest(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    pg_upsert(conn, table, COLUMNS, [row], key=["id"])


def _fresh_copy(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    fresh_tables.mark_fresh([table])
    try:
        left = fresh_tables.take_new(conn, table, ("id",), {row["id"]: row})
        assert not left  # written by COPY, not handed back to the upsert
    finally:
        fresh_tables.forget_fresh([table])


def _staged(conn: Connection, table: Table, row: dict[str, Any]) -> None:
    pg_staged_upsert(conn, table, COLUMNS, [row], key=["id"])


PATHS: dict[str, Callable[[Connection, Table, dict[str, Any]], None]] = {
    "unnest": _unnest,
    "fresh_copy": _fresh_copy,
    "staged": _staged,
}


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    made = create_views_engine(pg_url, pool_size=1)
    yield made
    made.dispose()


def _write(engine: Engine, path: str, code: str) -> tuple[Table, Exception | None]:
    metadata = new_metadata()
    table = _table(metadata, f"limits_{path}")
    metadata.create_all(engine)
    try:
        with write_transaction(engine) as conn:
            PATHS[path](conn, table, {"id": uuid.uuid4(), "code": code, "version": 1})
    except (DBAPIError, psycopg.Error) as error:
        return table, error
    return table, None


def _sqlstate(error: Exception | None) -> str | None:
    cause = error.orig if isinstance(error, DBAPIError) else error
    return cause.sqlstate if isinstance(cause, psycopg.Error) else None


@pytest.mark.postgres
def test_every_postgres_write_path_refuses_an_over_long_string_alike(pg_engine: Engine) -> None:
    refused = {path: _write(pg_engine, path, "x" * (LENGTH + 1)) for path in PATHS}
    # 22001 string_data_right_truncation: "value too long for type character varying(8)"
    states = {path: _sqlstate(error) for path, (_, error) in refused.items()}
    assert states == dict.fromkeys(PATHS, "22001")
    for table, _ in refused.values():
        assert rows(pg_engine, table) == []


@pytest.mark.postgres
def test_every_postgres_write_path_cuts_only_trailing_spaces_alike(pg_engine: Engine) -> None:
    written = {path: _write(pg_engine, path, "abcdefgh   ") for path in PATHS}
    for table, error in written.values():
        assert error is None
        assert [code for _, code, _ in rows(pg_engine, table)] == ["abcdefgh"]


@pytest.mark.postgres
def test_an_over_long_key_finds_nothing_rather_than_its_prefix(pg_engine: Engine) -> None:
    metadata = new_metadata()
    table = Table("limits_keys", metadata, Column("code", String(LENGTH), primary_key=True))
    metadata.create_all(pg_engine)
    with write_transaction(pg_engine) as conn:
        upsert(conn, table, [{"code": "abcdefgh"}])
        assert pg_select_in(conn, table, "code", ["abcdefghij"]) == []
        assert pg_select_in(conn, table, "code", ["abcdefgh"]) == [{"code": "abcdefgh"}]


def test_sqlite_stores_an_over_long_string_whole(sqlite_settings: Settings) -> None:
    engine = create_views_engine(views_url(sqlite_settings))
    try:
        metadata = new_metadata()
        table = _table(metadata, "limits_sqlite")
        metadata.create_all(engine)
        with write_transaction(engine) as conn:
            upsert(conn, table, [{"id": uuid.uuid4(), "code": "x" * 20, "version": 1}])
        assert [code for _, code, _ in rows(engine, table)] == ["x" * 20]
    finally:
        engine.dispose()
