"""The embedded default's JobQueue: one worker thread, the same retry/backoff semantics as
rq, and an in-memory failed-job registry.

`inline` runs a job's first attempt in the caller's thread (after the caller recorded
its intent, so never inside a transaction): `POST /bookings/{id}/payment` can then answer
with the client secret at once. Retries always go to the worker thread.

Ended jobs' records are kept for the newest `keep_finished` finished and `keep_failed` failed
jobs only (rq expires them by age instead), so a long-running server does not grow with every
job it ran; queued, scheduled and running jobs are never dropped. A dropped id can be enqueued
again and runs again: job ids are the processor's idempotency keys, so that work is not doubled.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from application.jobs import JobHandler, JobInfo, JobQueue, RetryPolicy, is_retryable
from infrastructure.job_telemetry import observe_job

log = logging.getLogger(__name__)


class InProcessJobQueue(JobQueue):
    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        inline: bool | Collection[str] = True,
        start: bool = True,
        keep_finished: int = 10_000,
        keep_failed: int = 10_000,
    ) -> None:
        """`inline`: True, False, or the names of the jobs whose first attempt runs inline."""
        super().__init__(policy)
        self.inline = inline
        self.keep_finished, self.keep_failed = keep_finished, keep_failed
        self._jobs: dict[str, JobInfo] = {}
        # ids of ended jobs, oldest end first, per status: what to drop past the bounds
        self._ended: dict[str, OrderedDict[str, None]] = {
            "finished": OrderedDict(),
            "failed": OrderedDict(),
        }
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = 0
        self._stop = False
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="jobs", daemon=True)
            self._thread.start()

    # -- the port ------------------------------------------------------------------------

    def register(self, name: str, handler: JobHandler) -> None:
        super().register(name, observe_job(name, handler))

    def depth(self) -> int:
        """Jobs waiting: queued or scheduled for a retry (the /metrics gauge)."""
        with self._cond:
            return len(self._heap)

    def enqueue(self, name: str, kwargs: Mapping[str, Any], *, job_id: str) -> JobInfo:
        if name not in self.handlers:
            raise KeyError(f"no job named {name!r}")
        with self._cond:
            known = self._jobs.get(job_id)
            if known is not None:
                return known
            info = JobInfo(job_id, name, "queued", kwargs=dict(kwargs))
            self._jobs[job_id] = info
            inline = self.inline if isinstance(self.inline, bool) else name in self.inline
            if not inline:
                self._push(job_id, 0.0)
                return info
            self._running += 1
        self._attempt(job_id)
        with self._cond:
            self._running -= 1
            self._cond.notify_all()
            return self._jobs[job_id]

    def get(self, job_id: str) -> JobInfo | None:
        with self._cond:
            return self._jobs.get(job_id)

    def failed(self, limit: int = 100, offset: int = 0) -> list[JobInfo]:
        with self._cond:
            jobs = [j for j in self._jobs.values() if j.status == "failed"]
        jobs.sort(key=lambda j: j.failed_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        return jobs[offset : offset + limit]

    def retry(self, job_id: str) -> bool:
        with self._cond:
            info = self._jobs.get(job_id)
            if info is None or info.status != "failed":
                return False
            self._jobs[job_id] = replace(info, status="queued", attempts=0, error="")
            self._ended["failed"].pop(job_id, None)
            self._push(job_id, 0.0)
            return True

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)

    # -- for tests and the CLI -----------------------------------------------------------

    def drain(self, timeout: float = 30.0, *, skip_delays: bool = False) -> bool:
        """Waits until nothing is queued or running; `skip_delays` runs backoffs at once."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._running:
                if skip_delays and self._heap:
                    self._heap = [(0.0, s, j) for _, s, j in self._heap]
                    heapq.heapify(self._heap)
                    self._cond.notify_all()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # -- the worker ----------------------------------------------------------------------

    def _push(self, job_id: str, delay: float) -> None:
        heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job_id))
        self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stop:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        break
                    wait = self._heap[0][0] - time.monotonic() if self._heap else 1.0
                    self._cond.wait(max(0.001, min(wait, 1.0)))
                if self._stop:
                    return
                _, _, job_id = heapq.heappop(self._heap)
                self._running += 1
            try:
                self._attempt(job_id)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _attempt(self, job_id: str) -> None:
        with self._cond:
            info = replace(self._jobs[job_id], status="started")
            info = replace(info, attempts=info.attempts + 1)
            self._jobs[job_id] = info
        try:
            result = self.handlers[info.name](**info.kwargs)
        except Exception as error:  # a job's failure must not kill the worker
            retries_used = info.attempts - 1
            with self._cond:
                if is_retryable(error) and retries_used < self.policy.max_retries:
                    self._jobs[job_id] = replace(info, status="scheduled", error=repr(error))
                    self._push(job_id, self.policy.delay(retries_used))
                else:
                    log.warning("job %s (%s) failed: %r", job_id, info.name, error)
                    self._end(
                        replace(
                            info, status="failed", error=repr(error), failed_at=datetime.now(UTC)
                        )
                    )
            return
        with self._cond:
            self._end(replace(info, status="finished", result=result, error=""))

    def _end(self, info: JobInfo) -> None:
        """Records an ended job and drops the oldest ended records past the bounds (under
        the lock)."""
        self._jobs[info.id] = info
        ended = self._ended[info.status]
        ended[info.id] = None
        keep = self.keep_finished if info.status == "finished" else self.keep_failed
        while len(ended) > keep:
            old, _ = ended.popitem(last=False)
            del self._jobs[old]
