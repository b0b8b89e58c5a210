"""The request boundary: one pure ASGI middleware around the app doing what four did (issue
#9: each layer was a coroutine frame, a `send` closure and, for some, a `Request` per
request), in the order they were stacked, outermost first:

1. the request id (`X-Request-Id` in, or a new uuid4) on `scope["state"]` and echoed on the
   response; an exception that escaped the app becomes a logged 500 problem (503 when a
   database or Redis is down) carrying it;
2. the work scope every log line reads, the caller's W3C trace context, the server span,
   the `command` counter and one access log line;
3. request count and latency by route template;
4. the scope in which commands answer from the aggregates they saved
   (`application/saved_aggregates.py`; it also covers `IdempotencyMiddleware`, inside,
   which loads no aggregate).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.propagate import extract, get_global_textmap
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.saved_aggregates import answering_from_saves
from application.work_scope import current_scope, work_scope
from infrastructure import metrics
from infrastructure.structured_logging import direct_line
from infrastructure.tracing import span
from interfaces.http.health import LATENCY, REQUESTS, route_template
from interfaces.http.problems import REQUEST_ID_HEADER, SAFE_REQUEST_ID, last_resort

log = logging.getLogger("rentbook.access")
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()

# Children of the labelled metrics by label values: `labels()` takes a lock and converts
# every value each call; the label sets are few (route templates, methods, statuses).
_requests: dict[tuple[str, str, str], Counter] = {}
_latency: dict[tuple[str, str], Histogram] = {}
_commands: dict[tuple[str, str], Counter] = {}
# The header names the global propagator reads, by propagator (tests may swap it).
_fields: tuple[object, frozenset[bytes]] = (None, frozenset())


def _propagation_fields() -> frozenset[bytes]:
    global _fields
    textmap = get_global_textmap()
    if _fields[0] is not textmap:
        _fields = (textmap, frozenset(f.lower().encode("latin-1") for f in textmap.fields))
    return _fields[1]


def _caller_context(headers: list[tuple[bytes, bytes]]) -> Context | None:
    """The caller's trace context (`traceparent`, `baggage`, ...), or None when the request
    carries none of the propagator's headers: extracting then would return the current
    context unchanged, so attaching it is skipped."""
    fields = _propagation_fields()
    if not any(k in fields for k, _ in headers):
        return None
    return extract({k.decode("latin-1"): v.decode("latin-1") for k, v in headers})


def _new_request_id() -> str:
    """A random version-4 UUID. Not `uuid4()`: its `os.urandom` releases the GIL, and the
    event loop then waits for a busy worker thread to hand it back (5% of the loop's samples
    under load); a request id needs uniqueness, not a cryptographic source."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for key, value in headers:
        if key == _REQUEST_ID_KEY:
            incoming = value.decode("latin-1")
            return incoming if SAFE_REQUEST_ID.match(incoming) else _new_request_id()
    return _new_request_id()


def _count(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, str(status))
    counter = _requests.get(key) or _requests.setdefault(key, REQUESTS.labels(*key))
    counter.inc()
    timed = _latency.get(key[:2]) or _latency.setdefault(key[:2], LATENCY.labels(method, route))
    timed.observe(seconds)


def _count_command(command: str, status: int) -> None:
    key = (command, metrics.outcome_of(status))
    counter = _commands.get(key) or _commands.setdefault(key, metrics.COMMANDS.labels(*key))
    counter.inc()


class RequestBoundaryMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        request_id = _request_id(headers)
        scope.setdefault("state", {})["request_id"] = request_id
        echoed = (_REQUEST_ID_KEY, request_id.encode())
        method = str(scope.get("method", ""))
        started_at = time.perf_counter()
        status, started = 500, False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started, status = True, int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), echoed]}
            await send(message)

        caller = _caller_context(headers)
        token = otel_context.attach(caller) if caller is not None else None
        try:
            try:
                with (
                    work_scope(request_id=request_id, correlation_id=request_id),
                    span(f"HTTP {method}", **{"http.request.method": method}) as current,
                ):
                    try:
                        with answering_from_saves():
                            await self.app(scope, receive, send_with_id)
                    finally:
                        route = route_template(scope)
                        _count(method, route, status, time.perf_counter() - started_at)
                        current.update_name(f"{method} {route}")
                        current.set_attribute("http.route", route)
                        current.set_attribute("http.response.status_code", status)
                        _access_line(method, route, status, started_at)
            finally:
                if token is not None:
                    otel_context.detach(token)
        except Exception as exc:
            if started:
                raise
            await last_resort(exc, scope, request_id)(scope, receive, send_with_id)


def _access_line(method: str, route: str, status: int, started_at: float) -> None:
    work = current_scope()
    if method not in _READS and work is not None and work.command:
        _count_command(work.command, status)
    if not log.isEnabledFor(logging.INFO):
        return
    extra: dict[str, Any] = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round((time.perf_counter() - started_at) * 1000, 2),
    }
    if direct_line(log, logging.INFO, "request", extra):  # our handler alone: no record
        return
    # Made and handled here rather than by `log.info`, which walks the stack for its caller
    # (structlog's logger class skips its own frames too): always this line, and no line
    # format of ours prints it.
    log.handle(
        log.makeRecord(
            log.name, logging.INFO, __file__, 0, "request", (), None, "_access_line", extra
        )
    )
