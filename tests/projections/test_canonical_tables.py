"""Views' live tables are defined once per process and class (`canonical_tables`): what two
runners share must be what a fresh definition gives, and a view from outside the package (a
test's own) is defined afresh each time."""

from __future__ import annotations

from sqlalchemy import Column, Connection, Engine, Integer, MetaData, Table
from sqlalchemy.schema import CreateTable

from application.store import EventStore
from projections.base import Projection, ViewTables, canonical_tables, new_metadata
from projections.registry import all_projections
from projections.runner import ProjectionRunner


class _OwnView(Projection):
    name = "own"

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {
            "rows": Table(f"own_rows{suffix}", metadata, Column("id", Integer, primary_key=True))
        }

    def process(
        self, conn: Connection, tables: dict[str, Table], event: object, position: int
    ) -> None:
        return None


def test_package_views_share_tables_equal_to_a_fresh_definition() -> None:
    for projection in all_projections():
        metadata, tables = canonical_tables(projection)
        again = canonical_tables(type(projection)())
        assert again[0] is metadata and again[1] is tables
        fresh = projection.define_tables(new_metadata(), "")
        assert sorted(tables) == sorted(fresh)
        for logical, table in tables.items():
            assert str(CreateTable(table)) == str(CreateTable(fresh[logical]))
            assert {i.name for i in table.indexes} == {i.name for i in fresh[logical].indexes}
        assert set(metadata.tables) == {t.name for t in tables.values()}


def test_two_runners_and_a_reader_use_the_same_live_tables(
    store: EventStore, engine: Engine
) -> None:
    first = ProjectionRunner(store, engine, all_projections())
    second = ProjectionRunner(store, engine, all_projections())
    for projection in all_projections():
        mine, theirs = first.tables(projection.name), second.tables(projection.name)
        reader = ViewTables(projection)
        assert sorted(mine) == sorted(theirs) == sorted(reader)
        assert all(mine[k] is theirs[k] is reader[k] for k in mine)


def test_a_view_from_outside_the_package_is_defined_afresh() -> None:
    one, two = canonical_tables(_OwnView()), canonical_tables(_OwnView())
    assert one[0] is not two[0]
    assert one[1]["rows"] is not two[1]["rows"]
    assert one[1]["rows"].name == "own_rows"
