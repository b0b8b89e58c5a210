"""Every job attempt as a unit of work: a `job <name>` span, log lines that name the job as
their command (and keep the correlation id of the request that queued it, when the job runs
in that request's context), and a failure counter."""

from __future__ import annotations

import functools
from typing import Any

from application.jobs import JobHandler
from application.work_scope import work_scope
from infrastructure import metrics
from infrastructure.tracing import span


def observe_job(name: str, handler: JobHandler) -> JobHandler:
    @functools.wraps(handler)
    def run(**kwargs: Any) -> Any:
        command = f"job:{name}"
        with work_scope(command=command), span(f"job {name}", **{"rentbook.job": name}):
            try:
                result = handler(**kwargs)
            except Exception:
                metrics.JOB_FAILURES.labels(name).inc()
                metrics.COMMANDS.labels(command, "error").inc()
                raise
            metrics.COMMANDS.labels(command, "ok").inc()
            return result

    return run
