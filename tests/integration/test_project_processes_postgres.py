"""Views split across projection processes on PostgreSQL (`rentbook project --processes`):
the shares, caught up side by side, equal one process's views; a process killed mid-way
resumes from its views' positions; the supervisor restarts a dead child and stops them all
on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from application.store import EventStore
from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.partition import partition, topics_of
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import make_world
from tests.conftest import PG_ADMIN_URL, _with_db
from tests.e2e.test_serve_workers_postgres import _env
from tests.polling import eventually
from tests.projections.helpers import book_stays, every_view

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
VIEWS = topics_of(all_projections())
NAMES = list(VIEWS)
STARTUP_SECONDS = 180.0  # the command imports the whole app; the machine is shared


@pytest.fixture
def settings(pg_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=pg_url,
        data_dir=tmp_path / "var",
        postgres_pool_size=2,
        postgres_max_overflow=2,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[EventStore]:
    store = build_event_store(settings)
    world = make_world(store)
    listings = [world.active_listing(quantity=2), world.active_listing(quantity=2)]
    book_stays(world, listings, stays=20, quantities=(1, 2))
    yield store
    store.close()


@pytest.fixture
def views_db() -> Iterator[str]:
    """A views database of its own: the one-process build the shares are compared with."""
    name = f"rentbook_t_pj_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(PG_ADMIN_URL, name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_process_views(store: EventStore, url: str) -> dict[str, list[str]]:
    engine = create_views_engine(url, pool_size=2)
    try:
        runner = ProjectionRunner(store, engine, all_projections(), batch_size=7)
        runner.catch_up()
        return every_view(runner, engine)
    finally:
        engine.dispose()


def runner_on(settings: Settings, views: list[str]) -> tuple[ProjectionRunner, EventStore, Engine]:
    """What one process of `rentbook project` runs: its own store, engine and share."""
    store = build_event_store(settings)
    engine = create_views_engine(views_url(settings), pool_size=2)
    runner = ProjectionRunner(store, engine, all_projections(), batch_size=7)
    runner.setup()
    runner.own(views)
    return runner, store, engine


def test_two_processes_catch_up_to_the_views_of_one(
    settings: Settings, store: EventStore, views_db: str
) -> None:
    expected = one_process_views(store, views_db)
    shares = [runner_on(settings, part) for part in partition(VIEWS, 2)]
    errors: list[BaseException] = []
    go = threading.Barrier(len(shares))

    def catch_up(runner: ProjectionRunner) -> None:
        try:
            go.wait()
            runner.catch_up()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=catch_up, args=(r,)) for r, _, _ in shares]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors
        runner, _, engine = shares[0]
        assert all(runner.position(name) == store.current_position() for name in NAMES)
        assert every_view(runner, engine) == expected
    finally:
        for _, share_store, engine in shares:
            share_store.close()
            engine.dispose()


def _project(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        **_env(settings),
        "RENTBOOK_REDIS_URL": "",
        "RENTBOOK_POSTGRES_POOL_SIZE": "2",
        "RENTBOOK_POSTGRES_MAX_OVERFLOW": "2",
        "RENTBOOK_PROJECTION_BATCH_SIZE": "2",  # many pages: a kill lands between them
        "RENTBOOK_PROJECTION_CATCH_UP_BATCH_SIZE": "2",
    }
    command = [sys.executable, "-m", "interfaces.cli.main", "project", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def test_a_process_killed_mid_way_resumes_and_the_supervisor_restarts_a_dead_child(
    settings: Settings, store: EventStore, views_db: str
) -> None:
    head = store.current_position()
    watcher, watcher_store, watcher_engine = runner_on(settings, [])
    part = partition(VIEWS, 2)[1]
    alone = _project(settings, "--views", ",".join(part))
    try:
        eventually(
            lambda: max(watcher.position(n) for n in part) > 0,
            "the share has begun",
            timeout=STARTUP_SECONDS,
            interval=0.01,
        )
    finally:
        alone.send_signal(signal.SIGKILL)
        alone.wait()
    assert min(watcher.position(n) for n in part) < head  # killed mid-way
    assert all(watcher.position(n) == 0 for n in NAMES if n not in part)  # not its views

    parent = _project(settings, "--processes", "2")
    try:
        (child,) = eventually(lambda: _children(parent.pid), "a child", timeout=STARTUP_SECONDS)
        os.kill(child, signal.SIGKILL)  # the supervisor starts another
        eventually(lambda: _children(parent.pid) not in ([], [child]), "a new child", timeout=60)
        assert watcher.wait_for(head, NAMES, timeout=STARTUP_SECONDS)
        survivors = _children(parent.pid)
        parent.send_signal(signal.SIGTERM)  # what `docker compose stop` sends
        assert parent.wait(60) == 0
        for pid in survivors:
            eventually(lambda pid=pid: not Path(f"/proc/{pid}/stat").exists() or _zombie(pid),
                       "the child stopped with its parent", timeout=30)  # fmt: skip
        # The singletons (ledger, coupons) may have added events: compare at the final log.
        assert watcher.wait_for(store.current_position(), NAMES, timeout=60)
        assert every_view(watcher, watcher_engine) == one_process_views(store, views_db)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        watcher_store.close()
        watcher_engine.dispose()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
