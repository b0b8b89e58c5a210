"""A rebuild fills fresh tables that carry only what its upserts and lookups need (keys,
unique indexes, the indexes the view folds by) and builds the other indexes after its first
pass; the swapped-in view has every index its tables declare."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    Uuid,
    inspect,
)

from application.store import EventStore
from projections.base import Projection, upsert
from projections.runner import ProjectionRunner
from tests.projections.helpers import record_items, rows


class ThingsView(Projection):
    name = "things"
    folds_by = (("things", "grp"),)

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        table = Table(
            f"things{suffix}",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("code", String(40), nullable=False),
            Column("name", String(100), nullable=False, index=True),
            Column("grp", String(10), nullable=False),
        )
        Index(None, table.c.code, unique=True)
        Index(None, table.c.grp, table.c.name)
        return {"things": table}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        named = [e for e, _ in events if hasattr(e, "name")]
        upsert(
            conn,
            tables["things"],
            [
                {
                    "id": e.originator_id,
                    "code": str(e.originator_id),
                    "name": e.name,
                    "grp": e.name[:1],
                }  # type: ignore[attr-defined]
                for e in named
            ],
        )


def _indexed(engine: Engine, prefix: str) -> dict[str, set[tuple[str, ...]]]:
    """Each table named `prefix…`: the column lists of its indexes (unique ones too)."""
    found: dict[str, set[tuple[str, ...]]] = {}
    with engine.connect() as conn:
        meta = inspect(conn)
        for name in meta.get_table_names():
            if name.startswith(prefix):
                columns: set[tuple[str, ...]] = {
                    tuple(str(c) for c in ix["column_names"]) for ix in meta.get_indexes(name)
                }
                columns |= {
                    tuple(str(c) for c in u["column_names"])
                    for u in meta.get_unique_constraints(name)
                }
                found[name] = columns
    return found


def test_first_pass_writes_without_the_indexes_only_queries_read(
    backend: tuple[EventStore, Engine],
) -> None:
    store, engine = backend
    record_items(store, 8, changes=2)
    runner = ProjectionRunner(store, engine, [ThingsView()], rebuild_batch_size=4)
    runner.setup()
    during: list[dict[str, set[tuple[str, ...]]]] = []

    def progress(position: int, head: int) -> Any:
        during.append(_indexed(engine, "things__rb"))

    assert runner.rebuild("things", progress) == store.current_position()

    assert during and all(len(seen) == 1 for seen in during)
    first_pass = next(iter(during[0].values()))
    assert ("code",) in first_pass  # unique: upserts may conflict on it
    assert ("grp", "name") in first_pass  # the view folds by it
    assert ("name",) not in first_pass
    after = _indexed(engine, "things")
    assert list(after) == ["things"]  # swapped in, nothing left behind
    assert {("code",), ("grp", "name"), ("name",)} <= after["things"]
    assert len(rows(engine, runner.tables("things")["things"])) == 8
