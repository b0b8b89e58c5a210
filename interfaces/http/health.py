"""Liveness, readiness and Prometheus metrics (request count and latency by route)."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.http.deps import ContainerDep

log = logging.getLogger("rentbook.http")
router = APIRouter(tags=["operations"])

REQUESTS = Counter("rentbook_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "rentbook_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LAG_DEGRADED_SECONDS = 60.0


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


@router.get("/health/ready")
def ready(container: ContainerDep, response: Response) -> dict[str, Any]:
    """Readiness: the event store, the view database and Redis (when configured) answer
    (else 503). Projection lag is reported; a lagging or failed view makes the status
    `degraded`, not unready, so a rebuild never takes the API out of rotation."""
    checks: dict[str, Any] = {}

    def views() -> None:
        with container.views.connect() as conn:
            conn.execute(text("SELECT 1"))

    ok = _check(checks, "event_store", container.store.current_position)
    ok = _check(checks, "views", views) and ok
    if container.redis is not None:
        ok = _check(checks, "redis", container.redis.ping) and ok
    degraded = False
    try:
        lag = {
            s["name"]: {
                "status": s["status"],
                "lag_events": s["lag_events"],
                "lag_seconds": s["lag_seconds"],
            }
            for s in container.runner.status()
        }
        degraded = any(
            v["status"] == "error" or v["lag_seconds"] > LAG_DEGRADED_SECONDS for v in lag.values()
        )
        checks["projections"] = lag
    except Exception as exc:
        checks["projections"] = {"ok": False, "error": type(exc).__name__}
        degraded = True
    if not ok:
        response.status_code = 503
    status = "unavailable" if not ok else "degraded" if degraded else "ok"
    return {"status": status, "checks": checks}


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def route_template(scope: Scope) -> str:
    """`/api/v1/bookings/{booking_id}` for a matched request: its path with each path
    parameter's segment named instead of valued, so labels stay few."""
    if scope.get("route") is None:
        return "unmatched"
    names = {str(v): "{" + k + "}" for k, v in scope.get("path_params", {}).items()}
    return "/".join(names.get(segment, segment) for segment in scope["path"].split("/"))


class MetricsMiddleware:
    """Counts requests and times them by route template (never the raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = route_template(scope)
            method = scope.get("method", "")
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)
