"""The JobQueue on rq: Redis-backed jobs, `Retry` with exponential backoff intervals, and rq's
FailedJobRegistry as the dead-letter registry.

Job ids are the work's idempotency keys. A `SET NX` claim on the id makes enqueueing
idempotent even when two processes race (rq itself would overwrite a job with the same id).
Every job runs `run_job(name, kwargs)`, which finds its handler in the handlers of the queue
whose worker runs it (`jobs_rq_worker`): `rentbook worker` builds the container, whose queue
registers the handlers; several containers in one process each keep their own.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import redis
from rq import Queue, Retry, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from application.jobs import JobHandler, JobInfo, JobQueue, RetryPolicy, is_retryable
from infrastructure.job_telemetry import observe_job
from infrastructure.jobs_rq_worker import JobLoop, RentbookWorker, current_handlers

log = logging.getLogger(__name__)
CLAIM_TTL = 7 * 24 * 3600  # an id stays claimed at least as long as rq keeps failed jobs


def run_job(name: str, kwargs: dict[str, Any]) -> Any:
    """What rq executes. Errors that retrying cannot fix go straight to the failed registry."""
    handlers = current_handlers.get()
    if handlers is None:
        raise RuntimeError("run_job runs only in a Rentbook rq worker (RqJobQueue.worker())")
    try:
        return handlers[name](**kwargs)
    except Exception as error:
        if not is_retryable(error):
            job = get_current_job()
            if job is not None:
                job.retries_left = 0
        raise


class RqJobQueue(JobQueue):
    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "rentbook:",
        queue_name: str = "rentbook",
        policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__(policy)
        self.client = client
        self.prefix = prefix
        self.queue = Queue(f"{prefix}{queue_name}", connection=client)
        self._worker_thread: threading.Thread | None = None
        self._loop_name = ""
        self._loop_client: redis.Redis | None = None
        self._stop = threading.Event()

    def register(self, name: str, handler: JobHandler) -> None:
        handler = observe_job(name, handler)
        super().register(name, handler)

    def depth(self) -> int:
        """Jobs waiting in the queue (the /metrics gauge)."""
        return int(self.queue.count)

    def _job_id(self, job_id: str) -> str:
        # rq ids allow [A-Za-z0-9_-]; our keys hold ':' and '#'
        return job_id.replace(":", "_").replace("#", "-")

    def enqueue(self, name: str, kwargs: Mapping[str, Any], *, job_id: str) -> JobInfo:
        if name not in self.handlers:
            raise KeyError(f"no job named {name!r}")
        rq_id = self._job_id(job_id)
        claimed = self.client.set(f"{self.prefix}job-claim:{rq_id}", 1, nx=True, ex=CLAIM_TTL)
        if not claimed:
            return self.get(job_id) or JobInfo(job_id, name, "queued", kwargs=dict(kwargs))
        intervals = [max(1, round(i)) if i > 0 else 0 for i in self.policy.intervals()]
        retry = Retry(max=self.policy.max_retries, interval=intervals) if intervals else None
        job = self.queue.enqueue(
            run_job,
            name,
            dict(kwargs),
            job_id=rq_id,
            retry=retry,
            result_ttl=24 * 3600,
            failure_ttl=CLAIM_TTL,
            description=f"{name} {job_id}",
        )
        return self._info(job, job_id)

    def get(self, job_id: str) -> JobInfo | None:
        try:
            job = Job.fetch(self._job_id(job_id), connection=self.client)
        except NoSuchJobError:
            return None
        return self._info(job, job_id)

    def _info(self, job: Job, job_id: str | None = None) -> JobInfo:
        status = job.get_status(refresh=False) or JobStatus.QUEUED
        args = job.args or ("", {})
        result = job.return_value() if status == JobStatus.FINISHED else None
        error = ""
        if status == JobStatus.FAILED:
            latest = job.latest_result()
            error = (latest.exc_string or "") if latest is not None else ""
            error = error.strip().splitlines()[-1] if error.strip() else ""
        ended = job.ended_at.replace(tzinfo=UTC) if job.ended_at else None
        return JobInfo(
            id=job_id or job.id,
            name=str(args[0]),
            status=str(status.value if hasattr(status, "value") else status),
            result=result,
            kwargs=dict(args[1]) if len(args) > 1 else {},
            error=error,
            attempts=self.policy.max_retries + 1 - (job.retries_left or 0)
            if status == JobStatus.FAILED
            else 0,
            failed_at=ended if status == JobStatus.FAILED else None,
        )

    def failed(self, limit: int = 100, offset: int = 0) -> list[JobInfo]:
        registry = FailedJobRegistry(queue=self.queue)
        ids = registry.get_job_ids(offset, offset + limit - 1, desc=True)
        jobs = [j for j in Job.fetch_many(ids, connection=self.client) if j is not None]
        return [self._info(j) for j in jobs]

    def retry(self, job_id: str) -> bool:
        registry = FailedJobRegistry(queue=self.queue)
        rq_id = self._job_id(job_id)
        if rq_id not in registry.get_job_ids():
            return False
        job = Job.fetch(rq_id, connection=self.client)
        job.retries_left = self.policy.max_retries
        job.save()
        registry.requeue(rq_id)
        return True

    # -- workers -------------------------------------------------------------------------

    def worker(self) -> RentbookWorker:
        return RentbookWorker([self.queue], connection=self.client, handlers=self.handlers)

    def work(self, *, burst: bool = True) -> bool:
        """Runs jobs in this thread: with `burst` what is queued now, then returns (tests,
        `rentbook worker --burst`); else rq's own loop with its scheduler (`rentbook worker`)."""
        if burst:
            return JobLoop(self.worker(), self.queue).drain()
        return bool(self.worker().work(burst=False, with_scheduler=True))

    def start_thread(self, poll: float = 1.0) -> None:
        """An in-process worker thread (API processes that run their own workers); a queued
        job starts as soon as it is pushed, `close` returns at once (or within `poll`)."""
        if self._worker_thread is not None:
            return
        self._stop.clear()
        # The loop has connections of its own, named as its worker (rq names the worker's
        # connection too), so that `close` can end the loop's blocking pop with CLIENT
        # UNBLOCK instead of waiting out the pop's whole-second timeout.
        self._loop_name = uuid.uuid4().hex  # rq's own kind of worker name
        pool = self.client.connection_pool
        named = redis.ConnectionPool(
            connection_class=pool.connection_class,
            **{**pool.connection_kwargs, "client_name": self._loop_name},
        )
        self._loop_client = redis.Redis(connection_pool=named)
        queue = Queue(self.queue.name, connection=self._loop_client)
        worker = RentbookWorker(
            [queue], connection=self._loop_client, handlers=self.handlers, name=self._loop_name
        )
        self._worker_thread = threading.Thread(
            target=JobLoop(worker, queue).serve,
            args=(self._stop, poll),
            name="rq-worker",
            daemon=True,
        )
        self._worker_thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._worker_thread is not None:
            self._unblock_loop()
            self._worker_thread.join(5)
            self._worker_thread = None
        if self._loop_client is not None:
            self._loop_client.connection_pool.disconnect()
            self._loop_client = None

    def _unblock_loop(self) -> None:
        try:
            for client in self.client.client_list():
                if client.get("name") == self._loop_name:
                    self.client.client_unblock(int(client["id"]))
        except redis.RedisError:  # the pop then times out by itself, within `poll`
            log.warning("could not unblock the rq worker loop", exc_info=True)
