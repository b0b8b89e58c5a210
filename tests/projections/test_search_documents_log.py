"""The search documents view as the syncer reads it: rows changed since a position, rebuilds
equal to incremental runs (any story, and on PostgreSQL with the syncer filling the index)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from application.search_sync import document_for
from domain.calendar import ListingCalendar
from domain.errors import DomainError
from domain.search_documents import Horizon
from infrastructure.views_db import create_views_engine
from projections.runner import ProjectionRunner
from projections.search_documents import SearchDocumentsView, all_rows, changed_since
from tests.builders import NOW, World, make_world
from tests.projections.search_documents_support import (
    OPEN_ALL_DAY,
    TODAY,
    nights,
    place,
)
from tests.properties.test_rebuild_equals_incremental import commands, run


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}", pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def runner(world: World, engine: Engine) -> ProjectionRunner:
    return ProjectionRunner(world.store, engine, [SearchDocumentsView()], batch_size=4)


# -- the log as the view reads it ---------------------------------------------------------


def test_changed_since_lists_rows_by_position(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    first = world.active_listing()
    second = world.active_listing()
    runner.catch_up()
    tables = runner.tables("search_documents")
    with engine.connect() as conn:
        everything = changed_since(conn, tables, 0, 100)
        after_first = changed_since(conn, tables, everything[0]["position"], 100)
    assert [r["id"] for r in everything] == [first, second]
    assert [r["id"] for r in after_first] == [second]

    place(world, first, "2026-06-10", "2026-06-11")
    runner.catch_up()
    with engine.connect() as conn:
        (moved,) = changed_since(conn, tables, everything[-1]["position"], 100)
    assert moved["id"] == first and moved["blocked_keys"] == nights("2026-06-10")


def test_rebuild_equals_incremental_and_mirrors_the_calendar(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    story(world)
    runner.catch_up()
    incremental = snapshot(runner, engine)

    runner.rebuild("search_documents")

    assert snapshot(runner, engine) == incremental
    assert_mirrors_the_calendars(world, runner, engine)


def test_replaying_a_page_changes_nothing(world: World, engine: Engine) -> None:
    story(world)
    view = SearchDocumentsView()
    runner = ProjectionRunner(world.store, engine, [view], batch_size=1000)
    runner.catch_up()
    before = snapshot(runner, engine)
    notes = world.store.recorder.select_notifications(0, 10_000)
    events = [(world.store.mapper.to_domain_event(n), n.id) for n in notes]
    with engine.begin() as conn:
        view.process_page(conn, runner.tables("search_documents"), events)
    assert snapshot(runner, engine) == before


more_commands = st.one_of(
    commands,
    st.tuples(st.just("units"), st.integers(0, 2), st.integers(1, 4)),
    st.tuples(st.just("toggle"), st.integers(0, 2)),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(more_commands, min_size=1, max_size=16), st.integers(1, 6))
def test_rebuilt_rows_equal_incremental_rows_for_any_story(
    steps: list[tuple[Any, ...]], batch_size: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}", pool_size=1)
        try:
            world = make_world()
            runner = ProjectionRunner(
                world.store, engine, [SearchDocumentsView()], batch_size=batch_size
            )
            ids = [
                world.active_listing(quantity=2),
                world.active_listing(booking_mode="request"),
                world.active_listing(quantity=3, booking_mode="request"),
            ]
            placed: list[UUID] = []
            for command in steps:
                with contextlib.suppress(DomainError):  # refused commands are part of it
                    apply_command(world, ids, placed, command)
                runner.catch_up()
            incremental = snapshot(runner, engine)
            runner.rebuild("search_documents")
            assert snapshot(runner, engine) == incremental
            assert_mirrors_the_calendars(world, runner, engine)
        finally:
            engine.dispose()


def apply_command(
    world: World, ids: list[UUID], placed: list[UUID], command: tuple[Any, ...]
) -> None:
    if command[0] == "units":
        world.listings.update(world.owner, ids[command[1]], {"quantity": command[2]}, NOW)
    elif command[0] == "toggle":
        listing_id = ids[command[1]]
        if world.listings.get(listing_id, viewer=world.owner).status == "active":
            world.listings.deactivate(world.owner, listing_id, NOW)
        else:
            world.listings.activate(world.owner, listing_id, NOW)
    else:
        run(world, ids, placed, command)


def assert_mirrors_the_calendars(world: World, runner: ProjectionRunner, engine: Engine) -> None:
    """Each active row's blocked keys are exactly the keys the calendar has no free unit
    for (holds count as taken: `NOW` is when they were placed). Deleted rows carry none."""
    with engine.connect() as conn:
        rows = all_rows(conn, runner.tables("search_documents"), None, 100)
    for row in rows:
        if row["deleted"]:
            assert row["blocked_keys"] == []
            continue
        calendar: ListingCalendar = world.store.load(
            ListingCalendar.create_id(row["id"]), "calendar"
        )
        keys = {k for a in calendar.allocations.values() for k in a["keys"]}
        keys |= calendar.blocked_keys()
        keys |= {k + calendar.step * n for k in keys for n in range(1, 3)}  # buffers
        assert row["blocked_keys"] == sorted(k for k in keys if calendar.free_units(k, NOW) == 0)


def story(world: World) -> None:
    """Every kind of event the view reads, on night and hourly listings of 1-2 units."""
    one = world.active_listing()
    two = world.active_listing(quantity=2, booking_mode="request")
    court = world.active_listing(category="court", buffer_minutes=60, opening_hours=OPEN_ALL_DAY)
    a = place(world, one, "2026-06-10", "2026-06-13")
    place(world, two, "2026-06-10", "2026-06-12")
    b = place(world, two, "2026-06-11", "2026-06-14")
    world.bookings.approve(world.owner, b, NOW)
    world.bookings.decline(world.owner, place(world, two, "2026-06-14", "2026-06-15"), "no", NOW)
    block_id, _ = world.listings.add_block(world.owner, one, "2026-06-20", "2026-06-23", "x", NOW)
    world.listings.update(world.owner, two, {"quantity": 3, "title": "Now three"}, NOW)
    world.listings.remove_block(world.owner, one, block_id, NOW)
    world.bookings.cancel(world.renter, a, "plans changed", NOW)
    for hour in (9, 13):
        world.bookings.place(
            world.renter,
            court,
            start=f"2026-06-10T{hour:02d}:00:00+01:00",
            end=f"2026-06-10T{hour + 2:02d}:00:00+01:00",
            quantity=1,
            guests=2,
            at=NOW,
        )
    world.listings.update(world.owner, court, {"buffer_minutes": 0}, NOW)
    place(world, two, "2026-06-11", "2026-06-12")
    world.listings.deactivate(world.owner, one, NOW)
    world.listings.set_price(world.owner, two, date(2026, 6, 12), 30_000, NOW)


def snapshot(runner: ProjectionRunner, engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {
            logical: sorted(repr(tuple(r)) for r in conn.execute(select(table)))
            for logical, table in runner.tables("search_documents").items()
        }


@pytest.mark.postgres
def test_on_postgres_rebuild_equals_incremental_and_the_syncer_fills_the_index(
    world: World, pg_url: str
) -> None:
    from application.search_sync import IndexSyncer
    from projections.search_documents import ViewSearchDocuments
    from tests.search_memory import MemorySearchIndex

    engine = create_views_engine(pg_url, pool_size=1)  # the shared server: few connections
    try:
        runner = ProjectionRunner(world.store, engine, [SearchDocumentsView()], batch_size=3)
        source = ViewSearchDocuments(engine, runner.tables("search_documents"))
        index = MemorySearchIndex()
        syncer = IndexSyncer(source, index, batch_size=2)
        story(world)
        runner.catch_up()
        syncer.sync_once(TODAY)
        incremental = snapshot(runner, engine)
        expected = {
            str(r["id"]): document_for(r, TODAY)
            for r in source.all_rows(None, 100, Horizon.starting(TODAY))
            if not r["deleted"]
        }

        runner.rebuild("search_documents")
        assert snapshot(runner, engine) == incremental
        assert index.documents == expected and len(expected) == 2
        assert syncer.rebuild(TODAY) == 2 and index.documents == expected
        assert syncer.sync_once(TODAY) == 0
    finally:
        engine.dispose()
