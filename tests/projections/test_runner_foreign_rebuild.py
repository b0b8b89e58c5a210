"""A view rebuilt by another process than the one following it (the admin rebuild endpoint
served by an API process while `rentbook project` follows the view): the follower carries on
from where the swapped-in view stands, even when that is behind the follower's own position.
SQLite, then PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.views_db import create_views_engine
from projections.runner import ProjectionRunner
from tests.projections.helpers import ItemsView, NamesView, record_items, rows
from tests.projections.test_runner_owned import _settings_of


def test_the_follower_resumes_from_a_rebuild_swapped_in_behind_it(
    backend: tuple[EventStore, Engine], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Events recorded after the rebuild's last read, before its swap, reach the old tables
    through the follower and are dropped with them: the swapped-in view stands behind the
    follower. Before, the follower kept its own position (max of its and the row's), its
    every page then conflicted with the tracking row and the view stopped for good."""
    store, engine = backend
    settings = _settings_of(request, tmp_path)
    api_store, api_engine = build_event_store(settings), create_views_engine(views_url(settings))
    follower = ProjectionRunner(store, engine, [ItemsView(), NamesView()], batch_size=4)
    api = ProjectionRunner(api_store, api_engine, [ItemsView(), NamesView()], batch_size=4)
    finished_passes: list[int] = []

    def progress(position: int, head: int) -> None:
        if position < head:
            return
        finished_passes.append(position)
        record_items(store, 2, changes=1)  # the first pass: so a final pass runs; then behind
        assert follower.wait_for(store.current_position(), ["items"], timeout=20)

    try:
        record_items(store, 3, changes=1)
        with follower:
            assert follower.wait_for(store.current_position(), timeout=20)
            api.setup()
            rebuilt = api.rebuild("items", progress)
            assert len(finished_passes) == 2  # the last pass ran, events came after it
            assert rebuilt < store.current_position()
            record_items(store, 2, changes=1)
            head = store.current_position()
            assert follower.wait_for(head, ["items"], timeout=20)
            assert api.wait_for(head, ["items"], timeout=20)
        items = rows(engine, follower.tables("items")["items"])
        assert len(items) == 3 + 2 + 2 + 2
        assert all(r[3] == 2 for r in items)  # each event applied once
    finally:
        api_store.close()
        api_engine.dispose()
