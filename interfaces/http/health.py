"""Liveness, readiness and Prometheus metrics (request count and latency by route; the
rest in `infrastructure/metrics.py`)."""

from __future__ import annotations

import logging
import os
import weakref
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import Scope

from application.search import SearchIndex
from infrastructure import metrics as observed
from infrastructure.bootstrap import Container
from interfaces.http.deps import ContainerDep

log = logging.getLogger("rentbook.http")
router = APIRouter(tags=["operations"])
_search_set_up: weakref.WeakSet[SearchIndex] = weakref.WeakSet()

REQUESTS = Counter("rentbook_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "rentbook_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


@router.get("/health")
def health(container: ContainerDep) -> dict[str, Any]:
    """Liveness: the process answers; which API worker process it is, and whether the
    background workers (projections, scheduler, syncer, ledger) run in it."""
    return {"status": "ok", "pid": os.getpid(), "background_workers": container.runs_workers}


def _check(checks: dict[str, Any], name: str, probe: Any) -> bool:
    try:
        probe()
    except Exception as exc:
        log.warning("readiness check %s failed: %s", name, exc)
        checks[name] = {"ok": False, "error": type(exc).__name__}
        return False
    checks[name] = {"ok": True}
    return True


def _probe_search(search: SearchIndex | None) -> None:
    assert search is not None
    if search not in _search_set_up:  # the index may not exist before the syncer's start
        search.ensure_settings()  # idempotent
        _search_set_up.add(search)
    search.get(str(UUID(int=0)))


def _probe_jobs(container: Container) -> None:
    jobs = container.payments_wiring.jobs if container.payments_wiring else None
    if jobs is not None:
        depth = getattr(jobs, "depth", None)
        depth() if callable(depth) else jobs.failed(limit=1)


def _projection_checks(container: Container) -> tuple[dict[str, Any], bool]:
    """Each view's lag against the thresholds in Settings; a failed view is not ready."""
    settings = container.settings
    views: dict[str, Any] = {}
    for s in container.runner.status():
        ok = (
            s["status"] != "error"
            and s["lag_events"] <= settings.ready_max_lag_events
            and s["lag_seconds"] <= settings.ready_max_lag_seconds
        )
        views[s["name"]] = {
            "ok": ok,
            "status": s["status"],
            "lag_events": s["lag_events"],
            "lag_seconds": s["lag_seconds"],
        }
    return views, all(v["ok"] for v in views.values())


@router.get("/health/ready")
def ready(container: ContainerDep, response: Response) -> dict[str, Any]:
    """Readiness: every dependency answers (event store, view database, Redis when
    configured, the search backend, the job queue) and every projection is within its lag
    thresholds (`RENTBOOK_READY_MAX_LAG_EVENTS` / `_SECONDS`) and not failed; else 503.
    Each check is reported, with each view's lag in events and seconds."""
    checks: dict[str, Any] = {}

    def views() -> None:
        with container.views.connect() as conn:
            conn.execute(text("SELECT 1"))

    ok = _check(checks, "event_store", container.store.current_position)
    ok = _check(checks, "views", views) and ok
    if container.redis is not None:
        ok = _check(checks, "redis", container.redis.ping) and ok
    if container.search is not None:
        ok = _check(checks, "search", lambda: _probe_search(container.search)) and ok
    ok = _check(checks, "job_queue", lambda: _probe_jobs(container)) and ok
    try:
        checks["projections"], fresh = _projection_checks(container)
    except Exception as exc:
        log.warning("readiness check projections failed: %s", exc)
        checks["projections"], fresh = {"ok": False, "error": type(exc).__name__}, False
    if not (ok and fresh):
        response.status_code = 503
    status = "ok" if ok and fresh else "lagging" if ok else "unavailable"
    return {"status": status, "checks": checks}


@router.get("/metrics", response_class=Response)
def metrics(container: ContainerDep) -> Response:
    """Prometheus metrics; the container's gauges (projection lag, job queue depth) are
    read at scrape time."""
    try:
        observed.refresh_projection_lag(container.runner.status())
        if container.payments_wiring is not None:
            observed.refresh_job_depth(container.payments_wiring.jobs)
    except Exception as exc:  # a scrape still answers with what it has
        log.warning("metrics refresh failed: %s", exc)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def route_template(scope: Scope) -> str:
    """`/api/v1/bookings/{booking_id}` for a matched request: its path with each path
    parameter's segment named instead of valued, so labels stay few."""
    if scope.get("route") is None:
        return "unmatched"
    names = {str(v): "{" + k + "}" for k, v in scope.get("path_params", {}).items()}
    return "/".join(names.get(segment, segment) for segment in scope["path"].split("/"))
