"""Read-your-writes waits woken by the projector's page notices (PostgreSQL): a page's
transaction NOTIFYs `tracking.POSITIONS_CHANNEL`, the API worker's stream-notices
connection hears it and makes its waiters' shared read due at once. Polling stays the
fallback: notices dropped or the connection killed cost latency, never a wait's answer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from application.store import EventStore
from infrastructure.settings import Settings
from infrastructure.stream_notices import StreamNoticeListener, stream_notice_listener
from projections import tracking
from projections.runner import ProjectionRunner
from tests.conftest import PG_ADMIN_URL
from tests.polling import eventually
from tests.projections.helpers import ItemsView, NamesView, record_items, store_and_views

NEVER = 3600.0  # a poll interval no wait here lives to see: only a notice can wake it


@pytest.fixture
def pg(pg_url: str, tmp_path: Path) -> Iterator[tuple[EventStore, Engine]]:
    settings = Settings(environment="test", database_url=pg_url, data_dir=tmp_path / "var")
    with store_and_views(settings) as opened:
        yield opened


def _runners(store: EventStore, engine: Engine) -> tuple[ProjectionRunner, ProjectionRunner]:
    """(an API worker's runner, following nothing; the projector's, another process's)."""
    waiting = ProjectionRunner(store, engine, [ItemsView(), NamesView()])
    waiting.setup()
    return waiting, ProjectionRunner(store, engine, [ItemsView(), NamesView()])


def _listening(store: EventStore, on_positions: Callable[[], None]) -> StreamNoticeListener:
    listener = stream_notice_listener(store, on_positions)
    assert listener is not None
    listener.start()
    eventually(listener.connected.is_set, "the listener never connected")
    return listener


def _wait_across_a_page(waiting: ProjectionRunner, mover: ProjectionRunner, head: int) -> bool:
    """A waiter reads the rows (behind), then the projector moves the views: its answer."""
    answers: list[bool] = []
    thread = threading.Thread(target=lambda: answers.append(waiting.wait_for(head, timeout=60)))
    thread.start()
    eventually(lambda: waiting.shared_reads.completed >= 1, "the waiter never read")
    with mover:
        thread.join(90)
    return answers == [True]


def test_a_page_notifies_on_commit_with_the_positions_it_wrote(
    pg: tuple[EventStore, Engine], pg_url: str
) -> None:
    store, engine = pg
    record_items(store, 3, changes=1)
    _, mover = _runners(store, engine)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"LISTEN {tracking.POSITIONS_CHANNEL}")
        mover.catch_up()
        notices = list(conn.notifies(timeout=10, stop_after=1))
        rows = conn.execute("SELECT position FROM projection_tracking").fetchall()
    assert [n.channel for n in notices] == [tracking.POSITIONS_CHANNEL]
    assert {row[0] for row in rows} == {store.current_position()}  # committed before heard


def test_a_waiter_following_no_view_is_woken_by_the_notice_not_the_poll(
    pg: tuple[EventStore, Engine],
) -> None:
    store, engine = pg
    record_items(store, 3, changes=1)
    waiting, mover = _runners(store, engine)
    waiting.shared_reads.interval = NEVER
    listener = _listening(store, waiting.positions_moved)
    try:
        assert _wait_across_a_page(waiting, mover, store.current_position())
    finally:
        listener.stop()
    reads = waiting.shared_reads
    assert listener.position_notices >= 1 and reads.notices >= 1
    assert reads.reads - 1 <= reads.notices  # every read after the first, a notice's


def test_dropped_notices_cost_a_poll_not_the_answer(pg: tuple[EventStore, Engine]) -> None:
    store, engine = pg
    record_items(store, 3, changes=1)
    waiting, mover = _runners(store, engine)
    listener = _listening(store, lambda: None)  # heard, then lost on the way
    try:
        assert _wait_across_a_page(waiting, mover, store.current_position())
    finally:
        listener.stop()
    assert waiting.shared_reads.notices == 0
    assert waiting.shared_reads.reads >= 2  # the poll's


def test_a_killed_listen_connection_reconnects_and_notices_flow_again(
    pg: tuple[EventStore, Engine],
) -> None:
    store, engine = pg
    record_items(store, 3, changes=1)
    waiting, mover = _runners(store, engine)
    waiting.shared_reads.interval = NEVER
    listener = _listening(store, waiting.positions_moved)
    try:
        killed, before = listener.backend_pid, waiting.shared_reads.notices
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (killed,))
        eventually(
            lambda: listener.connected.is_set() and listener.backend_pid != killed,
            "the listener never reconnected",
        )
        missed = waiting.shared_reads.notices
        assert missed > before  # the reconnect's: positions may have moved meanwhile
        assert _wait_across_a_page(waiting, mover, store.current_position())
    finally:
        listener.stop()
    assert waiting.shared_reads.notices > missed
