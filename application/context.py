"""Who is acting and why: envelope metadata stamped on every recorded event."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from uuid import UUID

from application.work_scope import current_scope

SYSTEM_ACTOR = UUID("00000000-0000-0000-0000-000000000000")


@dataclass(frozen=True)
class Actor:
    id: UUID
    role: str  # renter | owner | admin | system

    @classmethod
    def system(cls) -> Actor:
        return cls(SYSTEM_ACTOR, "system")


@dataclass(frozen=True)
class CommandContext:
    actor_id: str = str(SYSTEM_ACTOR)
    actor_role: str = "system"
    correlation_id: str = ""
    causation_id: str = ""
    request_id: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


_current: contextvars.ContextVar[CommandContext | None] = contextvars.ContextVar(
    "rentbook_command_context", default=None
)


def current_context() -> CommandContext:
    ctx = _current.get()
    if ctx is None:
        rid = str(uuid.uuid4())
        return CommandContext(correlation_id=rid, request_id=rid)
    return ctx


def _scope_correlation() -> str:
    scope = current_scope()
    return scope.correlation_id if scope is not None else ""


def active_context() -> CommandContext | None:
    """The context of the command running now, if any (no fresh ids made up)."""
    return _current.get()


@contextmanager
def command_context(
    actor: Actor | None = None,
    *,
    request_id: str | None = None,
    correlation_id: str | None = None,
    causation_id: str = "",
) -> Iterator[CommandContext]:
    """Scope within which saved events carry this actor and these ids."""
    rid = request_id or str(uuid.uuid4())
    base = _current.get() or CommandContext()
    ctx = replace(
        base,
        request_id=rid,
        # A job run for a request keeps that request's correlation id on its events.
        correlation_id=correlation_id or base.correlation_id or _scope_correlation() or rid,
        causation_id=causation_id or base.causation_id,
    )
    if actor is not None:
        ctx = replace(ctx, actor_id=str(actor.id), actor_role=actor.role)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
