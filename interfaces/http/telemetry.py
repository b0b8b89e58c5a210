"""The `command <operation>` span and the command's name on the work scope (the request's
own observability, its ids, server span, access line and counters, is
`interfaces/http/boundary.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request

from application.work_scope import current_scope
from infrastructure.tracing import span

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


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
