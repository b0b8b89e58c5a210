"""A rebuild's fresh tables take their new rows by COPY on PostgreSQL
(`projections/fresh_tables.py`): the rows are the ones `upsert` would have written, a key
written before (or a second kind of key, or too many keys) goes through the upsert, and
every view rebuilt that way equals the view caught up event by event."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    select,
)

from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections import folding, fresh_tables
from projections.base import new_metadata, upsert, write_transaction
from projections.listings import JSONType
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import make_world
from tests.projections.helpers import book_stays, every_view

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _table(metadata: MetaData, name: str) -> Table:
    """A column of each type the views write."""
    return Table(
        name,
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("code", String(20), nullable=False, unique=True),
        Column("version", Integer, nullable=False),
        Column("count", BigInteger, nullable=False),
        Column("rating", Float, nullable=False),
        Column("hidden", Boolean, nullable=False),
        Column("day", Date),
        Column("at", DateTime(timezone=True)),
        Column("data", JSONType, nullable=False),
    )


def _rows(ids: list[uuid.UUID], version: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "code": f"c{i.hex[:12]}",
            "version": version,
            "count": 1,
            "rating": 4.5 if n % 2 else 3.0,
            "hidden": n % 3 == 0,
            "day": date(2026, 3, 1) + timedelta(days=n) if n % 4 else None,
            "at": T0 + timedelta(minutes=n) if n % 5 else None,
            "data": {"n": n, "keys": [n, n + 1], "text": "é \u2603"},
        }
        for n, i in enumerate(ids)
    ]


def _pages(ids: list[uuid.UUID]) -> list[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Pages of rows and how each is written: new keys, then known and new ones mixed,
    counters summed, older versions ignored."""
    first, later = ids[:30], ids[30:]
    return [
        (_rows(first, 1), {"newer": "version"}),
        (_rows(first[:10] + later, 2), {"newer": "version"}),
        (_rows(first[10:20], 1), {"newer": "version"}),  # a replay: older, ignored
        ([{**r, "count": 5} for r in _rows(first[:5], 3)], {"add": ("count",)}),
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    else:
        made = create_views_engine(request.getfixturevalue("pg_url"), pool_size=1)
    try:
        yield made
    finally:
        made.dispose()


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(table name, row count) of every COPY."""
    copies: list[tuple[str, int]] = []
    copy = fresh_tables._copy

    def spied(conn: Any, fresh: Any, columns: Any, rows: list[Any]) -> None:
        copies.append((fresh.table.name, len(rows)))
        copy(conn, fresh, columns, rows)

    monkeypatch.setattr(fresh_tables, "_copy", spied)
    return copies


def _contents(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(table)))


def test_a_fresh_table_holds_what_upsert_writes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    copies = _spy(monkeypatch)
    metadata = new_metadata()
    plain, fresh = _table(metadata, "plain_rows"), _table(metadata, "fresh_rows")
    metadata.create_all(engine)
    fresh_tables.mark_fresh([fresh])
    try:
        ids = [uuid.uuid4() for _ in range(50)]
        for rows, how in _pages(ids):
            for table in (plain, fresh):
                with write_transaction(engine) as conn:
                    assert upsert(conn, table, rows, **how) == len(rows)
    finally:
        fresh_tables.forget_fresh([fresh])
    assert _contents(engine, fresh) == _contents(engine, plain)
    assert len(_contents(engine, plain)) == 50
    # PostgreSQL copied the 30 keys, then the 20 new ones of the mixed page; SQLite never
    counts = [n for _, n in copies]
    assert counts == ([30, 20] if engine.dialect.name == "postgresql" else [])


@pytest.mark.postgres
def test_another_key_or_too_many_keys_go_back_to_upserts(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_views_engine(pg_url, pool_size=1)
    try:
        metadata = new_metadata()
        plain, by_code, many = (_table(metadata, n) for n in ("plain_t", "by_code_t", "many_t"))
        metadata.create_all(engine)
        monkeypatch.setattr(fresh_tables, "MAX_KEYS", 40)
        fresh_tables.mark_fresh([by_code, many])
        ids = [uuid.uuid4() for _ in range(50)]
        try:
            for table in (plain, by_code, many):
                for n, (rows, how) in enumerate(_pages(ids)):
                    # by_code: a page written by its other unique key stops the copies
                    key = ("code",) if table is by_code and n == 1 else None
                    with write_transaction(engine) as conn:
                        upsert(conn, table, rows, key=key, **how)
            state = {t: fresh_tables._fresh[id(t)].keys for t in (by_code, many)}
        finally:
            fresh_tables.forget_fresh([by_code, many])
        assert state == {by_code: None, many: None}  # no longer tracked
        assert _contents(engine, by_code) == _contents(engine, plain)
        assert _contents(engine, many) == _contents(engine, plain)
        assert not fresh_tables._fresh
    finally:
        engine.dispose()


def test_views_rebuilt_on_fresh_tables_equal_the_caught_up_views(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = _spy(monkeypatch)
    skipped: list[int] = []  # ids a rebuild did not look up
    may_hold = fresh_tables.may_hold

    def spied(table: Table, key: str, ids: list[Any]) -> list[Any]:
        kept = may_hold(table, key, ids)
        skipped.append(len(ids) - len(kept))
        return kept

    monkeypatch.setattr(folding, "may_hold", spied)
    pg = engine.dialect.name == "postgresql"
    if pg:
        url = str(engine.url.render_as_string(hide_password=False))
        settings = Settings(environment="test", database_url=url, data_dir=tmp_path / "var")
        world = make_world(build_event_store(settings))
    else:
        world = make_world()
    runner = ProjectionRunner(world.store, engine, all_projections(), batch_size=7)
    book_stays(world, [world.active_listing(quantity=2) for _ in range(4)], 6)
    runner.catch_up()
    assert not copied and not any(skipped)  # live tables: never copied into nor skipped
    incremental = every_view(runner, engine)
    runner.rebuild_all()
    assert every_view(runner, engine) == incremental
    assert sum(skipped) > 24  # at least the bookings placed were not looked up
    if pg:
        assert {"audit", "bookings", "availability_keys"} <= {n.split("__rb")[0] for n, _ in copied}
    copied.clear()
    for name in ("audit", "bookings", "availability", "search_documents", "payments"):
        runner.rebuild(name)
    assert every_view(runner, engine) == incremental
    assert bool(copied) == pg and not fresh_tables._fresh  # forgotten after the swap


def test_a_table_another_insert_writes_is_no_longer_tracked(engine: Engine) -> None:
    metadata = new_metadata()
    fresh = _table(metadata, "fresh_rows")
    metadata.create_all(engine)
    fresh_tables.mark_fresh([fresh])
    unwatch = fresh_tables.watch_inserts(engine)
    ids = [uuid.uuid4() for _ in range(4)]
    try:
        with write_transaction(engine) as conn:
            upsert(conn, fresh, _rows(ids[:2], 1))
            assert fresh_tables.may_hold(fresh, "id", ids) == ids[:2]
            conn.execute(fresh.insert(), _rows(ids[2:], 1))  # as the ledger writes entries
            assert fresh_tables.may_hold(fresh, "id", ids) == ids
            assert set(folding.load_rows(conn, fresh, ids)) == set(ids)
    finally:
        unwatch()
        fresh_tables.forget_fresh([fresh])
