"""Per-request observability: the work scope every log line reads (request id, correlation
id, actor, command), the server span with the W3C `traceparent` a caller sent, one access
log line per request, and a `command <operation>` span and counter around each command."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.work_scope import current_scope, work_scope
from infrastructure import metrics
from infrastructure.tracing import span
from interfaces.http.health import route_template

log = structlog.get_logger("rentbook.access")
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestTelemetryMiddleware:
    """Inside `RequestContextMiddleware`, which assigns the request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(scope.get("state", {}).get("request_id", ""))
        method = str(scope.get("method", ""))
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        token = otel_context.attach(extract(headers))
        started, status = time.perf_counter(), 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            with (
                work_scope(request_id=request_id, correlation_id=request_id),
                span(f"HTTP {method}", **{"http.request.method": method}) as current,
            ):
                try:
                    await self.app(scope, receive, record_status)
                finally:
                    route = route_template(scope)
                    current.update_name(f"{method} {route}")
                    current.set_attribute("http.route", route)
                    current.set_attribute("http.response.status_code", status)
                    log.info(
                        "request",
                        method=method,
                        route=route,
                        status=status,
                        duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    )
        finally:
            otel_context.detach(token)


def _observed(route: APIRoute, app: Callable[..., Any]) -> Callable[..., Any]:
    name = route.name
    is_command = not (route.methods or set()) <= _READS

    async def run(scope: Scope, receive: Receive, send: Send) -> None:
        work = current_scope()
        if work is not None:
            work.command = name
        if not is_command:
            await app(scope, receive, send)
            return
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with span(f"command {name}", **{"rentbook.command": name}) as current:
            try:
                await app(scope, receive, record_status)
            finally:
                metrics.COMMANDS.labels(name, metrics.outcome_of(status)).inc()
                if status >= 500:
                    current.set_status(trace.StatusCode.ERROR)

    return run


def instrument_routes(app: FastAPI) -> None:
    """Names each request's command after its operation, and spans and counts commands.
    Call once the routers are included."""
    for route in app.router.routes:
        if isinstance(route, APIRoute) and not getattr(route.app, "_rentbook_observed", False):
            route.app = _observed(route, route.app)
            route.app._rentbook_observed = True  # type: ignore[attr-defined]
