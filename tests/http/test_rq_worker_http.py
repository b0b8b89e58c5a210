"""The rq worker thread on real Redis: a queued job starts promptly, every time (it used to
stall 60 s now and then in rq's per-burst teardown), and each container runs its own
handlers (they used to live in one process-wide dict, the last container's winning)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from application.jobs import JobInfo
from infrastructure.bootstrap import Container, build_container
from infrastructure.jobs_rq import RqJobQueue, run_job
from infrastructure.settings import Settings
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import CHEAP_ARGON2, Api
from tests.polling import eventually

START_BOUND = 5.0  # seconds; the fix starts jobs in milliseconds, the bug took 60 s


def _rq_jobs(container: Container) -> RqJobQueue:
    wiring = container.payments_wiring
    assert wiring is not None and isinstance(wiring.jobs, RqJobQueue)
    return wiring.jobs


def test_a_job_queued_on_the_pg_container_starts_promptly_every_time(pg_api: Api) -> None:
    jobs = _rq_jobs(pg_api.container)
    started: dict[int, float] = {}
    ran = threading.Condition()

    def probe(n: int) -> int:
        with ran:
            started[n] = time.monotonic()
            ran.notify_all()
        return n

    jobs.register("latency_probe", probe)
    waits: list[float] = []
    for n in range(20):
        queued_at = time.monotonic()
        jobs.enqueue("latency_probe", {"n": n}, job_id=f"probe:{n}")
        with ran:
            ran.wait_for(lambda n=n: n in started, timeout=START_BOUND + 60)
        waits.append(started.get(n, float("inf")) - queued_at)
        time.sleep(0.3)  # let the worker go idle between jobs, as between requests
    assert max(waits) < START_BOUND, [round(w, 2) for w in waits]
    info = jobs.get("probe:19")
    assert info is not None and info.status == "finished" and info.result == 19


def test_close_stops_the_worker_thread_promptly(pg_api: Api) -> None:
    jobs = _rq_jobs(pg_api.container)
    thread = jobs._worker_thread
    assert thread is not None and thread.is_alive()
    began = time.monotonic()
    jobs.close()
    assert not thread.is_alive() and time.monotonic() - began < 3.0


@pytest.fixture
def two_containers(tmp_path: Path, redis_url: str) -> Iterator[tuple[Container, Container]]:
    """Two running containers in this process, each on its own SQLite data and Redis prefix."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    prefixes = [f"rentbook-test:{uuid.uuid4().hex[:12]}:" for _ in range(2)]
    containers: list[Container] = []
    try:
        for i, prefix in enumerate(prefixes):
            settings = Settings(
                environment="test",
                data_dir=tmp_path / f"var{i}",
                redis_url=redis_url,
                redis_key_prefix=prefix,
            )
            containers.append(
                build_container(settings, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2)
            )
            containers[-1].start_workers(scheduler_interval=0.5)
        yield containers[0], containers[1]
    finally:
        for container in containers:
            container.close()
        client = redis.Redis.from_url(redis_url)
        for prefix in prefixes:
            keys = list(client.scan_iter(match=prefix + "*"))
            if keys:
                client.delete(*keys)
        client.close()


def _finished(jobs: RqJobQueue, job_id: str) -> object:
    def done() -> JobInfo | None:
        info = jobs.get(job_id)
        return info if info is not None and info.status in ("finished", "failed") else None

    info = eventually(done, f"{job_id} finished", timeout=START_BOUND, interval=0.02)
    assert info.status == "finished", info.error
    return info.result


def test_two_containers_in_one_process_each_run_their_own_handlers(
    two_containers: tuple[Container, Container],
) -> None:
    first, second = (_rq_jobs(c) for c in two_containers)
    # Both registered the payments jobs, each bound to its own container's services.
    assert "refund" in first.handlers and "refund" in second.handlers
    assert first.handlers["refund"] is not second.handlers["refund"]
    first.register("whoami", lambda: "first")
    second.register("whoami", lambda: "second")  # registered last: it used to win for both
    first.enqueue("whoami", {}, job_id="who:1")
    second.enqueue("whoami", {}, job_id="who:2")
    assert _finished(first, "who:1") == "first"
    assert _finished(second, "who:2") == "second"
    # The test thread's own burst worker runs the queue's handlers too.
    first.close()
    first.enqueue("whoami", {}, job_id="who:3")
    assert first.work(burst=True)
    assert _finished(first, "who:3") == "first"


def test_a_job_run_outside_a_rentbook_worker_has_no_handlers_to_borrow() -> None:
    with pytest.raises(RuntimeError, match="rq worker"):
        run_job("whoami", {})
