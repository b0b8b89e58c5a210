"""Views more than a page behind read catch-up pages; near the head they read normal pages.
Either way every event is applied once, in order, and the views end where a page-by-page
catch-up ends."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, MetaData, Table

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.base import Projection
from projections.runner import ProjectionRunner
from tests.projections.helpers import ItemsView, record_items, rows


class PagesView(Projection):
    """Remembers the size of each page and the positions it was handed."""

    name = "pages"

    def __init__(self) -> None:
        self.pages: list[int] = []
        self.positions: list[int] = []

    def define_tables(self, metadata: MetaData, suffix: str) -> dict[str, Table]:
        return {}

    def process_page(
        self, conn: Connection, tables: dict[str, Table], events: Sequence[tuple[object, int]]
    ) -> None:
        self.pages.append(len(events))
        self.positions.extend(position for _, position in events)


def test_a_view_far_behind_reads_catch_up_pages_then_normal_ones(
    backend: tuple[EventStore, Engine],
) -> None:
    store, engine = backend
    record_items(store, 10, changes=3)  # 40 events
    view = PagesView()
    runner = ProjectionRunner(store, engine, [view], batch_size=4, catch_up_batch_size=25)

    runner.catch_up()
    assert view.pages == [25, 15]
    record_items(store, 1, changes=2)  # 3 events: within a page of the head
    runner.catch_up()

    assert view.pages == [25, 15, 3]
    assert view.positions == list(range(1, store.current_position() + 1))


def test_without_a_catch_up_size_pages_stay_at_the_batch_size(
    backend: tuple[EventStore, Engine],
) -> None:
    store, engine = backend
    record_items(store, 3, changes=1)  # 6 events
    view = PagesView()
    ProjectionRunner(store, engine, [view], batch_size=4).catch_up()
    assert view.pages == [4, 2]


@settings(max_examples=15, deadline=None)
@given(
    items=st.integers(1, 12),
    changes=st.integers(0, 4),
    batch=st.integers(1, 6),
    catch_up=st.integers(1, 40),
    growth=st.lists(st.integers(1, 5), max_size=3),
)
def test_catch_up_pages_build_what_normal_pages_build(
    items: int, changes: int, batch: int, catch_up: int, growth: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = build_event_store(Settings(environment="test", data_dir=Path(tmp) / "store"))
        engines = [
            create_views_engine(views_url(Settings(environment="test", data_dir=Path(tmp) / n)))
            for n in ("small", "large")
        ]
        try:
            small = ProjectionRunner(store, engines[0], [ItemsView()], batch_size=batch)
            large = ProjectionRunner(
                store, engines[1], [ItemsView()], batch_size=batch, catch_up_batch_size=catch_up
            )
            for more in [items, *growth]:  # the log grows between catch-ups
                record_items(store, more, changes=changes)
                small.catch_up()
                large.catch_up()
            head = store.current_position()
            assert large.position("items") == small.position("items") == head
            assert rows(engines[1], large.tables("items")["items"]) == rows(
                engines[0], small.tables("items")["items"]
            )
        finally:
            for engine in engines:
                engine.dispose()
            store.close()
