"""Identical reads sharing one query (infrastructure/shared_reads.py): callers share the
read that starts after they asked, never one already under way, so each gets what the
database held at some moment after its own call."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infrastructure.shared_reads import SharedReads


class Database:
    """A value that writers bump; a read takes its snapshot when it starts, then takes a
    while to answer (the window in which a too-eager sharer would hand out old news)."""

    def __init__(self, latency: float) -> None:
        self.value = 0
        self.latency = latency
        self.reads = 0

    def read(self) -> int:
        snapshot = self.value
        self.reads += 1
        time.sleep(self.latency)
        return snapshot


def test_callers_during_a_read_share_the_next_one() -> None:
    db, shared = Database(latency=0.05), SharedReads[int]()
    first = threading.Thread(target=lambda: shared.read("k", db.read))
    first.start()
    time.sleep(0.01)  # the first read is under way
    db.value = 1
    results: list[int] = []
    later = [
        threading.Thread(target=lambda: results.append(shared.read("k", db.read))) for _ in range(8)
    ]
    for thread in later:
        thread.start()
    for thread in [first, *later]:
        thread.join()
    assert results == [1] * 8  # none got the first read's snapshot (0)
    assert db.reads == 2 and shared.reads == 2 and shared.shared == 7


def test_other_keys_do_not_wait_and_a_lone_read_runs_at_once() -> None:
    db, shared = Database(latency=0.2), SharedReads[int]()
    slow = threading.Thread(target=lambda: shared.read("slow", db.read))
    slow.start()
    time.sleep(0.01)
    started = time.perf_counter()
    assert shared.read("other", lambda: 42) == 42
    assert time.perf_counter() - started < 0.1
    slow.join()
    assert not shared._running and not shared._next


def test_a_failed_read_fails_every_caller_that_shared_it_and_not_the_next() -> None:
    shared, gate = SharedReads[int](), threading.Event()
    errors: list[BaseException] = []

    def failing() -> int:
        gate.wait()
        raise OSError("connection lost")

    def call() -> None:
        try:
            shared.read("k", failing)
        except OSError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    gate.set()
    for thread in threads:
        thread.join()
    assert len(errors) == 4
    assert shared.read("k", lambda: 7) == 7


@settings(max_examples=25, deadline=None)
@given(
    callers=st.lists(st.floats(0, 0.004), min_size=2, max_size=12),
    writes=st.lists(st.floats(0, 0.004), min_size=1, max_size=6),
)
def test_every_caller_sees_at_least_what_was_written_before_it_asked(
    callers: list[float], writes: list[float]
) -> None:
    db, shared = Database(latency=0.002), SharedReads[int]()
    stale: list[tuple[int, int]] = []

    def caller(delay: float) -> None:
        time.sleep(delay)
        before = db.value
        got = shared.read("k", db.read)
        if got < before:
            stale.append((before, got))

    def writer() -> None:
        for delay in writes:
            time.sleep(delay)
            db.value += 1

    threads = [threading.Thread(target=caller, args=(d,)) for d in callers]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not stale
    assert shared.reads <= len(callers)
    assert not shared._running and not shared._next


@pytest.mark.parametrize("callers", [1, 16])
def test_the_reads_equal_the_callers_minus_the_shared(callers: int) -> None:
    db, shared = Database(latency=0.01), SharedReads[int]()
    threads = [threading.Thread(target=lambda: shared.read("k", db.read)) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert shared.reads + shared.shared == callers == db.reads + shared.shared
