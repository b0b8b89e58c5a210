"""Per-request observability: the work scope every log line reads (request id, correlation
id, actor, command), the server span with the W3C `traceparent` a caller sent, one access
log line per request, and a `command <operation>` span and counter for each command."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

from fastapi import Request
from opentelemetry import context as otel_context
from opentelemetry.propagate import extract
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.work_scope import current_scope, work_scope
from infrastructure import metrics
from infrastructure.tracing import span
from interfaces.http.health import route_template

log = logging.getLogger("rentbook.access")
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
                    work = current_scope()
                    if method not in _READS and work is not None and work.command:
                        metrics.COMMANDS.labels(work.command, metrics.outcome_of(status)).inc()
                    duration_ms = round((time.perf_counter() - started) * 1000, 2)
                    log.info(
                        "request",
                        extra={
                            "method": method,
                            "route": route,
                            "status": status,
                            "duration_ms": duration_ms,
                        },
                    )
        finally:
            otel_context.detach(token)


async def observe_command(request: Request) -> AsyncIterator[None]:
    """An app-wide dependency: names the request's command after its operation and, for
    commands (not reads), wraps the endpoint in a `command <operation>` span."""
    route = request.scope.get("route")
    name = getattr(route, "name", "") or ""
    work = current_scope()
    if work is not None:
        work.command = name
    if request.method in _READS:
        yield
        return
    with span(f"command {name}", **{"rentbook.command": name}) as current:
        try:
            yield
        except Exception as exc:
            current.set_attribute("rentbook.error", type(exc).__name__)
            raise
