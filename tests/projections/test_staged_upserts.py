"""A large page of rows goes to PostgreSQL by COPY into a staging table, then one upsert
(`projections/staged.py`): the rows stored are the unnest upsert's, a table upserted twice in
one transaction or after a rolled-back savepoint keeps them right, and every view caught up
that way equals the view caught up through the unnest upsert."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, text

from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections import staged
from projections.base import new_metadata, upsert, write_transaction
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import make_world
from tests.projections.helpers import book_stays, every_view, rows
from tests.projections.test_fresh_tables import _pages, _table

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_url: str) -> Any:
    made = create_views_engine(pg_url, pool_size=1)
    yield made
    made.dispose()


def _spy(monkeypatch: pytest.MonkeyPatch, at_least: int) -> list[tuple[str, int]]:
    """(table, rows) of every staged upsert, staging from `at_least` rows."""
    calls: list[tuple[str, int]] = []
    write = staged.pg_staged_upsert

    def spied(conn: Any, table: Table, columns: Any, group: Any, **how: Any) -> None:
        calls.append((table.name, len(group)))
        write(conn, table, columns, group, **how)

    monkeypatch.setattr(staged, "pg_staged_upsert", spied)
    monkeypatch.setattr(staged, "STAGE_ROWS", at_least)
    return calls


def test_a_staged_upsert_stores_what_the_unnest_upsert_stores(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    metadata = new_metadata()
    plain, staging = _table(metadata, "plain_rows"), _table(metadata, "staged_rows")
    metadata.create_all(engine)
    ids = [uuid.uuid4() for _ in range(50)]
    calls = _spy(monkeypatch, 10**9)
    for page, how in _pages(ids):
        with write_transaction(engine) as conn:
            upsert(conn, plain, page, **how)
    monkeypatch.setattr(staged, "STAGE_ROWS", 1)
    for page, how in _pages(ids):  # new keys, mixed, an older replay, counters summed
        with write_transaction(engine) as conn:
            assert upsert(conn, staging, page, **how) == len(page)
    assert rows(engine, staging) == rows(engine, plain)
    assert len(rows(engine, plain)) == 50
    assert [n for _, n in calls] == [30, 30, 10, 5]


def test_a_table_staged_twice_in_a_transaction_or_after_a_rollback(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    metadata = new_metadata()
    table = _table(metadata, "twice_rows")
    metadata.create_all(engine)
    calls = _spy(monkeypatch, 1)
    ids = [uuid.uuid4() for _ in range(40)]
    (first, _), (second, _) = _pages(ids)[:2]
    with write_transaction(engine) as conn:
        # the stage is made inside a savepoint that rolls back: made again after it
        with pytest.raises(RuntimeError), conn.begin_nested():
            upsert(conn, table, second, newer="version")
            raise RuntimeError("a view fails after its writes")
        upsert(conn, table, first, newer="version")
        upsert(conn, table, second, newer="version")  # the stage was emptied in between
    with write_transaction(engine) as conn:
        upsert(conn, table, first[:3], add=("count",))
    stored = {r[0]: r for r in rows(engine, table)}
    assert len(stored) == 40 and len(calls) == 4
    assert {stored[r["id"]][2] for r in second[3:]} == {2}  # later versions won
    assert {stored[r["id"]][3] for r in first[:3]} == {2}  # counter summed once


def test_views_caught_up_through_stages_equal_the_unnest_upserts(
    engine: Engine, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(environment="test", database_url=pg_url, data_dir=tmp_path / "var")
    store = build_event_store(settings)
    try:
        world = make_world(store)
        book_stays(world, [world.active_listing(quantity=2) for _ in range(3)], 5)
        runner = ProjectionRunner(world.store, engine, all_projections(), batch_size=9)
        calls = _spy(monkeypatch, 10**9)
        runner.catch_up()
        unnest = every_view(runner, engine)
        assert not calls
        monkeypatch.setattr(staged, "STAGE_ROWS", 1)
        for projection in all_projections():
            runner.rebuild(projection.name)  # fresh tables: known keys still upsert
        assert every_view(runner, engine) == unnest
        with engine.begin() as conn:
            for projection in all_projections():
                for table in runner.tables(projection.name).values():
                    conn.execute(text(f'TRUNCATE "{table.name}"'))
            conn.execute(text("DELETE FROM projection_tracking"))
        calls.clear()
        staged_runner = ProjectionRunner(world.store, engine, all_projections(), batch_size=9)
        staged_runner.catch_up()
        assert every_view(staged_runner, engine) == unnest
        assert {"audit", "bookings", "availability_keys"} <= {name for name, _ in calls}
    finally:
        store.close()
