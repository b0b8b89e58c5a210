"""The projection runner on the embedded default: SQLite event store and SQLite views."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections import tracking
from projections.base import Projection
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

ROOT = Path(__file__).resolve().parents[2]


def runner_for(
    store: EventStore, engine: Engine, *views: Projection, **kw: object
) -> ProjectionRunner:
    return ProjectionRunner(store, engine, views or [ItemsView()], **kw)  # type: ignore[arg-type]


def items(runner: ProjectionRunner, engine: Engine) -> list[tuple[object, ...]]:
    return rows(engine, runner.tables("items")["items"])


def test_catch_up_applies_every_event_exactly_once(store: EventStore, engine: Engine) -> None:
    ids = record_items(store, 30, changes=3)
    runner = runner_for(store, engine, batch_size=7)

    runner.catch_up()

    view = items(runner, engine)
    assert sorted(r[0] for r in view) == sorted(ids)
    assert all(r[2] == 4 and r[3] == 4 and r[4] == 1 for r in view)  # version, applied, bumps
    assert runner.position("items") == store.current_position()


def test_topic_filter_sees_only_its_events_but_moves_past_the_rest(
    store: EventStore, engine: Engine
) -> None:
    record_items(store, 10, changes=3)  # 2 renames each
    runner = runner_for(store, engine, RenamesView(), batch_size=4)

    runner.catch_up()

    assert len(rows(engine, runner.tables("renames")["renames"])) == 20
    assert runner.position("renames") == store.current_position()
    assert runner.status()[0]["lag_events"] == 0


def test_followed_events_are_applied_on_the_stores_wake_up_not_the_poll(
    store: EventStore, engine: Engine
) -> None:
    # A poll of a minute: each event must be applied within wait_for's 2 s because the
    # store's listener woke the runner. (A median-latency bound here failed at load 18.)
    runner = runner_for(store, engine, ItemsView(), NamesView(), poll_interval=60.0)
    with runner:
        for n in range(20):
            position = store.record(Item(name=f"n{n}"))
            assert runner.wait_for(position, timeout=2)
    assert len(items(runner, engine)) == 20


def test_wait_for_times_out_when_a_position_is_not_reached(
    store: EventStore, engine: Engine
) -> None:
    runner = runner_for(store, engine)
    with runner:
        began = time.perf_counter()
        assert not runner.wait_for(store.current_position() + 1, timeout=0.2)
        assert 0.2 <= time.perf_counter() - began < 5  # a loaded machine may be late; not early
        assert runner.wait_for(0, ["items"], timeout=0)


def test_failure_mid_page_leaves_nothing_of_that_page(store: EventStore, engine: Engine) -> None:
    record_items(store, 10, changes=1)  # positions 1..20
    runner = runner_for(store, engine, ItemsView(fail_at=13), batch_size=5)

    with pytest.raises(Boom):
        runner.catch_up()

    assert runner.position("items") == 10  # pages 1-5 and 6-10 committed, 11-15 not
    assert len(items(runner, engine)) == 5
    [status] = runner.status()
    assert status["status"] == "error" and "injected failure at 13" in status["error"]

    restarted = runner_for(store, engine, batch_size=5)
    restarted.catch_up()
    view = items(restarted, engine)
    assert len(view) == 10 and all(r[3] == 2 for r in view)  # no event applied twice
    assert restarted.status()[0]["status"] == "ok"


def test_failing_projection_is_retried_while_others_keep_going(
    store: EventStore, engine: Engine
) -> None:
    failing = ItemsView(fail_at=3)
    runner = runner_for(store, engine, failing, NamesView(), max_backoff=0.05)
    with runner:
        position = record_items(store, 3, changes=0) and store.current_position()
        assert runner.wait_for(position, ["names"], timeout=2)
        assert not runner.wait_for(position, ["items"], timeout=0.2)
        assert {s["name"]: s["status"] for s in runner.status()}["items"] == "error"
        failing.fail_at = None  # the bug is fixed
        assert runner.wait_for(position, timeout=2)
    assert {s["name"]: s["status"] for s in runner.status()} == {"items": "ok", "names": "ok"}


def test_status_reports_lag_until_caught_up(store: EventStore, engine: Engine) -> None:
    runner = runner_for(store, engine)
    runner.setup()
    record_items(store, 5, changes=1)
    [before] = runner.status()
    runner.catch_up()
    [after] = runner.status()

    assert before["lag_events"] == 10 and before["lag_seconds"] >= 0
    assert before["position"] == 0 and before["version"] == 1
    assert after["lag_events"] == 0 and after["lag_seconds"] == 0 and after["position"] == 10


def test_rebuild_gives_the_same_rows_as_incremental_processing(
    store: EventStore, engine: Engine
) -> None:
    runner = runner_for(store, engine, ItemsView(), NamesView(), RenamesView(), batch_size=3)
    for _ in range(4):
        record_items(store, 5, changes=3)
        runner.catch_up()
    incremental = {n: rows(engine, runner.tables(n)[n]) for n in ("items", "names", "renames")}

    for name in incremental:
        assert runner.rebuild(name) == store.current_position()

    assert {n: rows(engine, runner.tables(n)[n]) for n in incremental} == incremental
    with engine.connect() as conn:
        names = {r.name for r in tracking.load_all(conn)}
    assert names == {"items", "names", "renames"}


def test_rebuild_while_events_keep_arriving_misses_nothing(
    store: EventStore, engine: Engine
) -> None:
    record_items(store, 200, changes=2)
    runner = runner_for(store, engine, ItemsView(), rebuild_batch_size=50)
    done = threading.Event()

    def keep_writing() -> None:
        while not done.is_set():
            record_items(store, 1, changes=2)
            time.sleep(0.001)

    with runner:
        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            time.sleep(0.05)
            runner.rebuild("items")
            time.sleep(0.05)
        finally:
            done.set()
            writer.join()
        assert runner.wait_for(store.current_position(), timeout=5)

    view = items(runner, engine)
    assert len(view) == store.current_position() // 3
    assert all(r[3] == 3 for r in view)


def test_bumping_the_version_rebuilds_the_view_on_start(store: EventStore, engine: Engine) -> None:
    record_items(store, 5, changes=2)
    runner_for(store, engine).catch_up()

    class ItemsViewV2(ItemsView):
        version = 2

    runner = runner_for(store, engine, ItemsViewV2())
    runner.catch_up()

    assert runner.status()[0]["version"] == 2
    assert len(items(runner, engine)) == 5


def test_runner_killed_mid_page_resumes_to_the_same_view_as_a_rebuild(
    sqlite_settings: Settings, store: EventStore, engine: Engine
) -> None:
    record_items(store, 100, changes=2)  # 300 events, ~3 ms each in the worker
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.projections.helpers",
            str(sqlite_settings.data_dir),
            "",
            "0.003",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    try:
        assert worker.stdout is not None and worker.stdout.readline() == b"started\n"
        runner = runner_for(store, engine)
        eventually(lambda: runner.position("items") >= 60, "60 items projected", interval=0.01)
        time.sleep(0.07)  # somewhere inside a page of 50
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed_at = runner.position("items")
    assert 0 < killed_at < store.current_position()

    runner.catch_up()
    resumed = items(runner, engine)
    runner.rebuild("items")

    assert resumed == items(runner, engine)
    assert len(resumed) == 100 and all(r[3] == 3 for r in resumed)


@given(
    ops=st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["rename", "bump"])), max_size=40),
    pages=st.lists(st.integers(1, 9), min_size=1, max_size=4),
    crash_at=st.lists(st.integers(1, 50), max_size=3),
)
def test_incremental_view_with_crashes_equals_rebuilt_view(
    tmp_path_factory: pytest.TempPathFactory,
    ops: list[tuple[int, str]],
    pages: list[int],
    crash_at: list[int],
) -> None:
    settings = Settings(environment="test", data_dir=tmp_path_factory.mktemp("prop"))
    store = build_event_store(settings)
    engine = create_views_engine(views_url(settings))
    try:
        items_made: list[Item] = []
        for index, op in ops:
            if index >= len(items_made):
                items_made.append(Item(name=f"i{len(items_made)}"))
                store.record(items_made[-1])
                continue
            item = items_made[index]
            item.rename(f"r{item.version}") if op == "rename" else item.bump()
            store.record(item)

        for attempt in range(max(len(pages), len(crash_at))):
            fail_at = crash_at[attempt] if attempt < len(crash_at) else None
            size = pages[attempt % len(pages)]
            runner = runner_for(store, engine, ItemsView(fail_at=fail_at), NamesView())
            runner.batch_size = size
            with contextlib.suppress(Boom):
                runner.catch_up()
        final = runner_for(store, engine, ItemsView(), NamesView(), batch_size=pages[0])
        final.catch_up()
        incremental = [rows(engine, final.tables(n)[n]) for n in ("items", "names")]
        final.rebuild("items")
        final.rebuild("names")
        assert [rows(engine, final.tables(n)[n]) for n in ("items", "names")] == incremental
        with engine.connect() as conn:
            counts = conn.execute(select(final.tables("items")["items"].c.applied)).scalars()
            assert sum(counts) == store.current_position()
    finally:
        engine.dispose()
