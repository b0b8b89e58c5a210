"""The `command <operation>` span and the command's name on the work scope (the request's
own observability, its ids, server span, access line and counters, is
`interfaces/http/boundary.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, AsyncExitStack, contextmanager, nullcontext

from fastapi import Request

from application.work_scope import current_scope
from infrastructure.tracing import span, tracing_on

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def observe_command(request: Request) -> None:
    """An app-wide dependency: names the request's command after its operation and, for
    commands (not reads) while tracing, wraps the endpoint in a `command <operation>` span.

    Not a `yield` dependency: FastAPI gives each of those an async context manager and a
    cancel scope (~0.06-0.1 ms of CPU per request, issue #9) even when it only yields. The
    span is entered on the request's exit stack instead, which a `yield` dependency's
    exit runs on too, in the same task."""
    route = request.scope.get("route")
    name = getattr(route, "name", "") or ""
    work = current_scope()
    if work is not None:
        work.command = name
    if request.method in _READS or not tracing_on():
        return  # no span to make: `span` would only hand back the current one
    stack = request.scope.get("fastapi_inner_astack")
    if isinstance(stack, AsyncExitStack):
        stack.enter_context(command_span(name))


def observed_command(method: str, name: str) -> AbstractContextManager[None]:
    """What `observe_command` does, for a route served without FastAPI's dependencies
    (interfaces/http/lean_routes.py): enter it before the dependencies, leave it once the
    response is sent."""
    work = current_scope()
    if work is not None:
        work.command = name
    if method in _READS or not tracing_on():
        return nullcontext()
    return command_span(name)


@contextmanager
def command_span(name: str) -> Iterator[None]:
    with span(f"command {name}", **{"rentbook.command": name}) as current:
        try:
            yield
        except Exception as exc:
            current.set_attribute("rentbook.error", type(exc).__name__)
            raise
