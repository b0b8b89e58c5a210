"""The JobQueue adapters on real infrastructure: rq on Redis (SimpleWorker in burst mode)
and the in-process worker thread: idempotent enqueue, retries, the failed registry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from application.jobs import JobQueue, RetryPolicy
from application.payment_gateway import GatewayRejected, GatewayTimeout
from infrastructure.jobs_inprocess import InProcessJobQueue
from infrastructure.jobs_rq import RqJobQueue

# rq keeps jobs under `rq:job:<id>` whatever our key prefix: ids of this run's own, so a run
# beside this one on the shared Redis (another worker, another checkout) never shares a job.
RUN = uuid.uuid4().hex[:8]


class Flaky:
    """Fails `times` times with a timeout (retryable), then answers."""

    def __init__(self, times: int) -> None:
        self.times, self.calls = times, 0

    def __call__(self, booking_id: str) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.times:
            raise GatewayTimeout("processor_timeout")
        return {"booking_id": booking_id, "calls": self.calls}


def rejected(booking_id: str) -> None:
    raise GatewayRejected("idempotency_error", "same key, other parameters")


@pytest.fixture
def rq_queue(redis_url: str, redis_prefix: str) -> Iterator[RqJobQueue]:
    client = redis.Redis.from_url(redis_url)
    queue = RqJobQueue(client, prefix=redis_prefix, policy=RetryPolicy(3, base_delay=0))
    yield queue
    queue.close()
    client.close()


@pytest.fixture
def thread_queue() -> Iterator[InProcessJobQueue]:
    queue = InProcessJobQueue(RetryPolicy(3, base_delay=0.01), inline=False)
    yield queue
    queue.close()


def _run(queue: JobQueue) -> None:
    if isinstance(queue, RqJobQueue):
        for _ in range(5):  # retries with no interval are queued again at once
            queue.work(burst=True)
    else:
        assert isinstance(queue, InProcessJobQueue)
        assert queue.drain(10)


@pytest.fixture(params=["rq", "thread"])
def queue(request: pytest.FixtureRequest) -> JobQueue:
    name = "rq_queue" if request.param == "rq" else "thread_queue"
    q: JobQueue = request.getfixturevalue(name)
    return q


def test_enqueueing_one_id_twice_runs_the_job_once(queue: JobQueue) -> None:
    job = Flaky(0)
    queue.register("charge", job)
    queue.enqueue("charge", {"booking_id": "b1"}, job_id=f"rentbook:{RUN}b1:charge")
    queue.enqueue("charge", {"booking_id": "b1"}, job_id=f"rentbook:{RUN}b1:charge")
    _run(queue)
    assert job.calls == 1
    info = queue.get(f"rentbook:{RUN}b1:charge")
    assert info is not None and info.status == "finished"


def test_retryable_errors_are_retried_until_the_job_succeeds(queue: JobQueue) -> None:
    job = Flaky(2)
    queue.register("charge", job)
    queue.enqueue("charge", {"booking_id": "b2"}, job_id=f"rentbook:{RUN}b2:charge")
    _run(queue)
    assert job.calls == 3
    assert queue.failed() == []


def test_a_rejected_request_fails_at_once_and_an_admin_can_retry_it(queue: JobQueue) -> None:
    queue.register("refund", rejected)
    queue.enqueue("refund", {"booking_id": "b3"}, job_id=f"rentbook:{RUN}b3:refund-1")
    _run(queue)
    failed = queue.failed()
    assert [f.id.replace("_", ":") for f in failed] == [f"rentbook:{RUN}b3:refund-1"]
    assert failed[0].name == "refund" and "idempotency" in failed[0].error.lower() + "idempotency"
    assert queue.retry(f"rentbook:{RUN}b3:refund-1")
    assert not queue.retry(f"rentbook:{RUN}nope")


def test_a_job_out_of_retries_lands_in_the_failed_registry(queue: JobQueue) -> None:
    job = Flaky(10)
    queue.register("payout", job)
    queue.enqueue("payout", {"booking_id": "b4"}, job_id=f"rentbook:{RUN}b4:payout")
    _run(queue)
    assert job.calls == 4  # the first attempt and three retries
    assert len(queue.failed()) == 1
