"""Waiters on views another process moves (`X-Rentbook-Min-Position` in an API process,
a projection process waiting on another's views): a process's waiters share one read of the
tracking rows at a time, made without the lock the follower announces its pages under.
SQLite, then PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from application.store import EventStore
from projections.runner import ProjectionRunner
from tests.projections.helpers import ItemsView, NamesView, record_items

WAITERS = 12


@contextmanager
def gated_reads(engine: Engine) -> Iterator[tuple[threading.Event, list[int]]]:
    """Holds every read of `projection_tracking` on `engine` by a thread named `waiter...`
    until the gate opens (at most 60 s); counts them."""
    gate, reads = threading.Event(), [0]

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not threading.current_thread().name.startswith("waiter"):
            return
        if statement.lstrip().upper().startswith("SELECT") and "projection_tracking" in statement:
            reads[0] += 1
            gate.wait(60)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield gate, reads
    finally:
        gate.set()
        event.remove(engine, "before_cursor_execute", before)


def _until(condition: Callable[[], bool]) -> None:
    pause = threading.Event()
    for _ in range(1200):
        if condition():
            return
        pause.wait(0.05)
    raise AssertionError("never happened")


def _waiter(target: Callable[[], Any], name: str = "waiter") -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def test_many_waiters_share_one_read(backend: tuple[EventStore, Engine]) -> None:
    """Before, each waiter read the rows itself, one after another under the runner's lock:
    twelve waiters, twelve reads (and again every 50 ms each while they waited)."""
    store, engine = backend
    record_items(store, 3, changes=1)
    head = store.current_position()
    waiting = ProjectionRunner(store, engine, [ItemsView(), NamesView()])  # no thread: an API
    waiting.setup()
    mover = ProjectionRunner(store, engine, [ItemsView(), NamesView()])  # another process
    answers: list[bool] = []
    with gated_reads(engine) as (gate, reads):
        threads = [
            _waiter(lambda: answers.append(waiting.wait_for(head, timeout=60)), f"waiter-{i}")
            for i in range(WAITERS)
        ]
        _until(lambda: reads[0] >= 1)  # the first read is held: the others come meanwhile
        threading.Event().wait(0.3)
        mover.catch_up()  # seen by the held read, which has not run its query yet
        gate.set()
        for thread in threads:
            thread.join(60)
    assert answers == [True] * WAITERS
    assert reads[0] == 1


def test_a_held_read_holds_up_no_waiter_of_a_followed_view(
    backend: tuple[EventStore, Engine],
) -> None:
    """A read of another process's view that hangs (a slow database, a lock) must not hold
    up waiters on the views this runner's thread follows. Before, the read ran under the
    lock every waiter and the follower's announcements take, and they all stood still."""
    store, engine = backend
    runner = ProjectionRunner(store, engine, [ItemsView(), NamesView()], batch_size=4)
    runner.setup()
    runner.own(["items"])
    with runner:
        record_items(store, 2, changes=1)
        assert runner.wait_for(store.current_position(), ["items"], timeout=20)
        with gated_reads(engine) as (gate, reads):
            stuck = _waiter(lambda: runner.wait_for(10**9, ["names"], 1))  # held past it
            _until(lambda: reads[0] >= 1)
            record_items(store, 2, changes=1)
            head = store.current_position()
            answer: list[bool] = []
            waiter = _waiter(lambda: answer.append(runner.wait_for(head, ["items"], 30)))
            waiter.join(30)
            assert answer == [True]  # while the other read is still held
            gate.set()
            stuck.join(60)
