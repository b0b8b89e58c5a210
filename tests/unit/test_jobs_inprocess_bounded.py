"""The in-process job queue keeps a bounded number of ended job records: a long-running
embedded server must not grow with every job it ever ran, while queued and running jobs and
the newest finished and failed records (the admin's failed-jobs view) stay."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from application.jobs import RetryPolicy
from infrastructure.jobs_inprocess import InProcessJobQueue


class Refused(Exception):
    retryable = False


def refuse(n: int) -> None:
    raise Refused(f"no {n}")


@pytest.fixture
def queue() -> Iterator[InProcessJobQueue]:
    q = InProcessJobQueue(RetryPolicy(0), inline=False, keep_finished=3, keep_failed=2)
    q.register("ok", lambda n: n)
    q.register("refuse", refuse)
    yield q
    q.close()


def test_only_the_newest_finished_records_stay(queue: InProcessJobQueue) -> None:
    for n in range(10):
        queue.enqueue("ok", {"n": n}, job_id=f"ok-{n}")
        assert queue.drain(10)
    assert [queue.get(f"ok-{n}") is not None for n in range(10)] == [False] * 7 + [True] * 3
    newest = queue.get("ok-9")
    assert newest is not None and newest.status == "finished" and newest.result == 9
    assert len(queue._jobs) == 3


def test_only_the_newest_failed_records_stay_and_can_be_retried(
    queue: InProcessJobQueue,
) -> None:
    for n in range(5):
        queue.enqueue("refuse", {"n": n}, job_id=f"refuse-{n}")
        assert queue.drain(10)
    assert [j.id for j in queue.failed()] == ["refuse-4", "refuse-3"]
    assert not queue.retry("refuse-0")  # forgotten, like an expired rq failed job
    assert queue.retry("refuse-3")
    assert queue.drain(10)
    assert [j.id for j in queue.failed()] == ["refuse-3", "refuse-4"]


def test_queued_and_running_jobs_are_never_dropped(queue: InProcessJobQueue) -> None:
    release, started = threading.Event(), threading.Event()

    def held(n: int) -> int:
        started.set()
        release.wait(10)
        return n

    queue.register("held", held)
    queue.enqueue("held", {"n": -1}, job_id="held")
    assert started.wait(10)
    for n in range(3):  # queued behind the running job: more than keep_finished
        queue.enqueue("ok", {"n": n}, job_id=f"queued-{n}")
    for n in range(6):  # ended jobs before and around them
        queue.enqueue("refuse", {"n": n}, job_id=f"refuse-{n}")
    info = queue.get("held")
    assert info is not None and info.status == "started"
    assert all(queue.get(f"queued-{n}") is not None for n in range(3))
    release.set()
    assert queue.drain(10)
    held_info = queue.get("held")
    assert held_info is None or held_info.status == "finished"
    assert [j.id for j in queue.failed()] == ["refuse-5", "refuse-4"]
    assert len(queue._jobs) == 3 + 2
