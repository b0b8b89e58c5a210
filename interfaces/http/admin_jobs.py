"""Admin: the failed-job registry (processor calls out of retries) and retrying a job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from interfaces.http.deps import AdminDep, ContainerDep
from interfaces.http.problems import ProblemError

router = APIRouter(tags=["admin"])


class FailedJobPublic(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any]
    error: str
    attempts: int
    failed_at: datetime | None


class FailedJobsPublic(BaseModel):
    data: list[FailedJobPublic]
    next_cursor: str | None = None


class JobRetried(BaseModel):
    id: str
    status: str


@router.get("/admin/jobs/failed", response_model=FailedJobsPublic)
def failed_jobs(
    _: AdminDep,
    container: ContainerDep,
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=12, pattern=r"^[0-9]{1,9}$"),
) -> FailedJobsPublic:
    """Jobs that ran out of retries or failed for good (a rejected processor request),
    newest first, with the last error."""
    offset = int(cursor or 0)
    jobs = container.payments.jobs.failed(limit + 1, offset)
    data = [
        FailedJobPublic(
            id=j.id,
            name=j.name,
            arguments=dict(j.kwargs),
            error=j.error,
            attempts=j.attempts,
            failed_at=j.failed_at,
        )
        for j in jobs[:limit]
    ]
    return FailedJobsPublic(
        data=data, next_cursor=str(offset + limit) if len(jobs) > limit else None
    )


@router.post("/admin/jobs/{job_id}/retry", response_model=JobRetried)
def retry_job(job_id: str, _: AdminDep, container: ContainerDep) -> JobRetried:
    """Queues a failed job again with fresh retries (the same idempotency key, so the
    processor never does the work twice). 404 when no failed job has this id."""
    if len(job_id) > 300 or not container.payments.jobs.retry(job_id):
        raise ProblemError(404, "job_not_found", f"no failed job {job_id}")
    info = container.payments.jobs.get(job_id)
    return JobRetried(id=job_id, status=info.status if info else "queued")
