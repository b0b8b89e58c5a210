"""A runner that owns some views (`ProjectionRunner.own`): it moves only those, and waits on
the views another runner (another process) moves through their positions in the database.
SQLite, then PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.runner import ProjectionRunner
from tests.projections.helpers import ItemsView, NamesView, record_items, rows


def _runner(store: EventStore, engine: Engine, owned: list[str]) -> ProjectionRunner:
    runner = ProjectionRunner(store, engine, [ItemsView(), NamesView()], batch_size=4)
    runner.setup()
    runner.own(owned)
    return runner


def test_catch_up_moves_only_the_owned_views(backend: tuple[EventStore, Engine]) -> None:
    store, engine = backend
    record_items(store, 6, changes=1)
    runner = _runner(store, engine, ["names"])
    runner.catch_up()
    assert runner.owned == ["names"]
    assert runner.position("names") == store.current_position()
    assert runner.position("items") == 0
    assert rows(engine, runner.tables("items")["items"]) == []


def test_a_follower_waits_on_views_another_runner_moves(
    backend: tuple[EventStore, Engine], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Each runner follows its own view with a store of its own (as another process would):
    waiting on both views, each sees the other's move through the tracking rows."""
    store, engine = backend
    settings = _settings_of(request, tmp_path)
    other_store, other_engine = (
        build_event_store(settings),
        create_views_engine(views_url(settings)),
    )
    items_runner = _runner(store, engine, ["items"])
    names_runner = _runner(other_store, other_engine, ["names"])
    try:
        with items_runner, names_runner:
            record_items(store, 5, changes=2)
            position = store.current_position()
            assert items_runner.wait_for(position, timeout=20)
            assert names_runner.wait_for(position, timeout=20)
            assert items_runner.position("names") >= position
            assert names_runner.position("items") >= position
        names = rows(engine, names_runner.tables("names")["names"])
        items = rows(engine, items_runner.tables("items")["items"])
        assert len(names) == len(items) == 5
        assert all(r[3] == 3 for r in items)  # each event applied once, by its owner alone
    finally:
        other_store.close()
        other_engine.dispose()


def test_owning_an_unknown_view_is_refused(backend: tuple[EventStore, Engine]) -> None:
    store, engine = backend
    runner = ProjectionRunner(store, engine, [ItemsView()])
    with pytest.raises(ValueError, match="nope"):
        runner.own(["items", "nope"])


def _settings_of(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The backend fixture's settings again: its store's database, a store of our own."""
    if "pg_url" in request.fixturenames:
        url = request.getfixturevalue("pg_url")
        return Settings(environment="test", database_url=url, data_dir=tmp_path / "var")
    settings: Settings = request.getfixturevalue("sqlite_settings")
    return settings
