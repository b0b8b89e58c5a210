"""The JobQueue port: external calls run as jobs after their intent is recorded.

A job is a name, JSON-able keyword arguments and an id. The id is the idempotency key of the
work (booking + step), so enqueueing the same job twice runs it once. A job that raises is
retried with exponential backoff unless the error says retrying cannot help
(`retryable = False`, like `GatewayDeclined`/`GatewayRejected`); a job out of attempts lands
in the failed-job registry, where an admin can see it and retry it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JobHandler = Callable[..., Any]  # called with the job's kwargs; returns a JSON-able result


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` retries after the first attempt, waiting base * factor**n (capped)."""

    max_retries: int = 5
    base_delay: float = 2.0
    factor: float = 2.0
    max_delay: float = 600.0

    def intervals(self) -> list[float]:
        return [
            min(self.max_delay, self.base_delay * self.factor**n) for n in range(self.max_retries)
        ]

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry` (0-based)."""
        return self.intervals()[retry] if retry < self.max_retries else self.max_delay


def is_retryable(error: BaseException) -> bool:
    return bool(getattr(error, "retryable", True))


@dataclass(frozen=True)
class JobInfo:
    id: str
    name: str
    status: str  # queued | scheduled | started | finished | failed
    result: Any = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""
    attempts: int = 0
    failed_at: datetime | None = None


class JobQueue(ABC):
    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self.handlers: dict[str, JobHandler] = {}

    def register(self, name: str, handler: JobHandler) -> None:
        self.handlers[name] = handler

    @abstractmethod
    def enqueue(self, name: str, kwargs: Mapping[str, Any], *, job_id: str) -> JobInfo:
        """Queues the job unless a job with this id exists (queued, running, done or failed):
        then that job's info. On the embedded default the first attempt may already have run
        when this returns (`status == "finished"`, `result` set)."""

    @abstractmethod
    def get(self, job_id: str) -> JobInfo | None: ...

    @abstractmethod
    def failed(self, limit: int = 100, offset: int = 0) -> list[JobInfo]:
        """Jobs that ran out of attempts (or failed for good), newest first."""

    @abstractmethod
    def retry(self, job_id: str) -> bool:
        """Queues a failed job again with fresh attempts; False when it is not failed."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stops workers this queue started."""


class InlineJobQueue(JobQueue):
    """Runs every job at once in the caller's thread, retries included (no waiting): for
    application tests and scripts that have no worker."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        super().__init__(policy)
        self.jobs: dict[str, JobInfo] = {}

    def enqueue(self, name: str, kwargs: Mapping[str, Any], *, job_id: str) -> JobInfo:
        known = self.jobs.get(job_id)
        if known is not None:
            return known
        return self._run(JobInfo(job_id, name, "queued", kwargs=dict(kwargs)))

    def _run(self, info: JobInfo) -> JobInfo:
        error: Exception | None = None
        for attempt in range(1, self.policy.max_retries + 2):
            try:
                result = self.handlers[info.name](**info.kwargs)
            except Exception as e:
                error = e
                if not is_retryable(e):
                    break
                continue
            info = JobInfo(info.id, info.name, "finished", result, info.kwargs, "", attempt)
            self.jobs[info.id] = info
            return info
        from datetime import UTC

        info = JobInfo(
            info.id, info.name, "failed", None, info.kwargs, repr(error), attempt, datetime.now(UTC)
        )
        self.jobs[info.id] = info
        return info

    def get(self, job_id: str) -> JobInfo | None:
        return self.jobs.get(job_id)

    def failed(self, limit: int = 100, offset: int = 0) -> list[JobInfo]:
        failed = [j for j in self.jobs.values() if j.status == "failed"][::-1]
        return failed[offset : offset + limit]

    def retry(self, job_id: str) -> bool:
        info = self.jobs.get(job_id)
        if info is None or info.status != "failed":
            return False
        del self.jobs[job_id]
        self._run(JobInfo(job_id, info.name, "queued", kwargs=info.kwargs))
        return True
