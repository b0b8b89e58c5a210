"""The projection runner on PostgreSQL: events and views in the same database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.runner import ProjectionRunner
from tests.polling import eventually
from tests.projections.helpers import (
    Boom,
    Item,
    ItemsView,
    NamesView,
    RenamesView,
    record_items,
    rows,
)

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(pg_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=pg_url,
        data_dir=tmp_path / "var",
        postgres_pool_size=2,  # the shared server's connections are for everyone's tests
        postgres_max_overflow=4,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[EventStore]:
    store = build_event_store(settings)
    yield store
    store.close()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_views_engine(views_url(settings), pool_size=3)
    yield engine
    engine.dispose()


def record_many(store: EventStore, items: int, changes: int) -> None:
    """Many items per save: quick to record, and pages then span several aggregates."""
    for start in range(0, items, 100):
        batch = [Item(name=f"item-{n}") for n in range(start, min(items, start + 100))]
        for item in batch:
            for c in range(changes):
                item.rename(f"{item.name}-{c}")
        store.record(*batch)


def test_listen_wakes_the_runner_without_polling(store: EventStore, engine: Engine) -> None:
    runner = ProjectionRunner(store, engine, [ItemsView(), RenamesView()], poll_interval=30)
    with runner:
        time.sleep(0.2)  # the LISTEN connection is up
        lags = []
        for n in range(10):
            began = time.perf_counter()
            assert runner.wait_for(store.record(Item(name=f"n{n}")), timeout=3)
            lags.append(time.perf_counter() - began)
    # Polling would take 30 s; a second is proof enough of the wake-up, even on a loaded
    # machine (a tighter figure is the benchmark's job: bench/projection_rebuild.py lag).
    assert sorted(lags)[5] < 1.0, lags
    assert len(rows(engine, runner.tables("items")["items"])) == 10


def test_failure_mid_page_rolls_back_the_page_and_restart_completes(
    store: EventStore, engine: Engine
) -> None:
    record_items(store, 10, changes=1)
    failing = ProjectionRunner(store, engine, [ItemsView(fail_at=13)], batch_size=5)
    with pytest.raises(Boom):
        failing.catch_up()
    assert failing.position("items") == 10
    assert failing.status()[0]["status"] == "error"

    runner = ProjectionRunner(store, engine, [ItemsView()], batch_size=5)
    runner.catch_up()
    view = rows(engine, runner.tables("items")["items"])
    assert len(view) == 10 and all(r[3] == 2 for r in view)


def test_rebuild_while_events_keep_arriving_equals_incremental(
    store: EventStore, engine: Engine
) -> None:
    record_many(store, 300, changes=2)
    runner = ProjectionRunner(store, engine, [ItemsView(), NamesView()], rebuild_batch_size=100)

    def keep_writing() -> None:
        for _ in range(40):
            record_many(store, 5, changes=2)
            time.sleep(0.005)

    with runner:
        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            runner.rebuild("names")
            runner.rebuild("items")
        finally:
            writer.join()
        assert runner.wait_for(store.current_position(), timeout=10)
    items = rows(engine, runner.tables("items")["items"])

    assert len(items) == store.current_position() // 3
    assert all(r[3] == 3 for r in items)  # every event applied exactly once
    assert [r[:3] for r in items] == [
        (r[0], r[1], r[2]) for r in rows(engine, runner.tables("names")["names"])
    ]
    assert not [t for t in inspect(engine).get_table_names() if "__rb" in t]


def test_rebuilt_view_has_the_same_rows_as_incremental(store: EventStore, engine: Engine) -> None:
    runner = ProjectionRunner(store, engine, [ItemsView(), NamesView()], batch_size=37)
    for _ in range(3):
        record_many(store, 60, changes=3)
        runner.catch_up()
    incremental = {n: rows(engine, runner.tables(n)[n]) for n in ("items", "names")}
    for name in incremental:
        runner.rebuild(name)
    assert {n: rows(engine, runner.tables(n)[n]) for n in incremental} == incremental


def test_runner_killed_mid_page_resumes_without_loss_or_repeat(
    settings: Settings, store: EventStore, engine: Engine
) -> None:
    record_many(store, 100, changes=2)
    command = [sys.executable, "-m", "tests.projections.helpers", str(settings.data_dir)]
    worker = subprocess.Popen(
        [*command, str(settings.database_url), "0.003"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    runner = ProjectionRunner(store, engine, [ItemsView()])
    try:
        assert worker.stdout is not None and worker.stdout.readline() == b"started\n"
        eventually(lambda: runner.position("items") >= 60, "60 items projected", interval=0.01)
        time.sleep(0.07)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert 0 < runner.position("items") < store.current_position()

    runner.catch_up()
    resumed = rows(engine, runner.tables("items")["items"])
    runner.rebuild("items")
    assert resumed == rows(engine, runner.tables("items")["items"])
    assert len(resumed) == 100 and all(r[3] == 3 for r in resumed)
