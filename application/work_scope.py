"""What every log line and span of one unit of work carries: the request and correlation
ids, the actor and the command (an HTTP operation or a job's name).

Mutable on purpose: FastAPI resolves sync dependencies in worker threads on a copy of the
context, so the middleware binds one scope object and the auth dependency fills in the
actor on that same object."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class WorkScope:
    request_id: str = ""
    correlation_id: str = ""
    command: str = ""
    actor_id: str = ""
    actor_role: str = ""


_scope: contextvars.ContextVar[WorkScope | None] = contextvars.ContextVar(
    "rentbook_work_scope", default=None
)


def current_scope() -> WorkScope | None:
    return _scope.get()


@contextmanager
def work_scope(**fields: str) -> Iterator[WorkScope]:
    """A new scope, inheriting what the enclosing one knows (a job run inside a request)."""
    outer = _scope.get()
    scope = WorkScope(**{**(vars(outer) if outer else {}), **fields})
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def bind_actor(actor_id: str, role: str) -> None:
    """Called once the session is known (maybe in a worker thread: the object is shared)."""
    scope = _scope.get()
    if scope is not None:
        scope.actor_id, scope.actor_role = actor_id, role
