"""The HTTP composition root: `Annotated` dependencies every router uses.

Auth: `Authorization: Bearer <token>`, or the `rentbook_session` cookie, which on unsafe
methods also needs `X-CSRF-Token` equal to the session's csrf token. The principal is
resolved once per request and cached on `request.state`.

    @router.post("/things", status_code=201)
    def create_thing(body: ThingCreate, cmd: CommandDep, response: Response) -> ThingPublic:
        with cmd.context():                      # events carry actor + request ids
            thing_id, position = cmd.container.things.create(..., at=cmd.now)
        set_position(response, position)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from application.context import Actor, CommandContext, command_context
from application.identity import Principal
from application.work_scope import bind_actor
from domain.errors import AuthenticationError, DomainError, PermissionDenied
from domain.user import ADMIN
from infrastructure.bootstrap import Container
from interfaces.http.offload import run_in_command_thread

SESSION_COOKIE = "rentbook_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_RESOLVED = "_rentbook_principal"
_MISS = AuthenticationError("not_cached", "")  # a sentinel `_resolve` never stores


# Dependencies that do no I/O are `async def`: FastAPI runs a sync one in the thread pool,
# a hop (two thread switches) per dependency per request.


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_now(container: ContainerDep) -> datetime:
    return container.clock.now()


Now = Annotated[datetime, Depends(get_now)]


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


# -- credentials -----------------------------------------------------------------------------


def credentials(request: Request) -> tuple[str, bool] | None:
    """(token, via_cookie) from the Authorization header, else the session cookie."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip(), False
        return None
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else None


def _resolve(
    request: Request, container: Container, *, cached_only: bool = False
) -> Principal | DomainError | None:
    """None without credentials; the principal, or why the credentials are refused. With
    `cached_only`, no I/O: `_MISS` when the answer needs the session store."""
    if hasattr(request.state, _RESOLVED):
        cached: Principal | DomainError | None = getattr(request.state, _RESOLVED)
        return cached
    result: Principal | DomainError | None = None
    found = credentials(request)
    if found is not None:
        token, via_cookie = found
        at = container.clock.now()
        if cached_only:
            result = container.identity.cached_principal(token, at=at)
            if result is None:
                return _MISS
        else:
            try:
                result = container.identity.authenticate(token, at=at)
            except AuthenticationError as exc:
                result = exc
        if isinstance(result, Principal) and via_cookie and not _csrf_ok(request, result):
            result = PermissionDenied(
                "csrf_failed", f"cookie sessions need the {CSRF_HEADER} header on this method"
            )
    setattr(request.state, _RESOLVED, result)
    return result


def _csrf_ok(request: Request, principal: Principal) -> bool:
    if request.method in SAFE_METHODS:
        return True
    sent = request.headers.get(CSRF_HEADER, "")
    return bool(sent) and secrets.compare_digest(sent, principal.csrf_token)


async def get_principal(request: Request, container: ContainerDep) -> Principal:
    # Most requests find their principal in the per-process cache: answered here, on the
    # event loop, instead of a thread hop; a miss reads Redis (and the user) in a command
    # thread (`run_in_command_thread`: a cheaper hop than anyio's pool, see offload.py).
    result = _resolve(request, container, cached_only=True)
    if result is _MISS:
        result = await run_in_command_thread(lambda: _resolve(request, container))
    if result is None:
        raise AuthenticationError("not_authenticated", "a session token is required")
    if isinstance(result, Exception):
        raise result
    bind_actor(str(result.user_id), "admin" if result.has_role(ADMIN) else "user")
    return result


def get_optional_principal(request: Request, container: ContainerDep) -> Principal | None:
    """The principal when valid credentials came with the request; anonymous otherwise."""
    result = _resolve(request, container)
    if not isinstance(result, Principal):
        return None
    bind_actor(str(result.user_id), "admin" if result.has_role(ADMIN) else "user")
    return result


PrincipalDep = Annotated[Principal, Depends(get_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(get_optional_principal)]


async def get_admin(principal: PrincipalDep) -> Principal:
    if not principal.has_role(ADMIN):
        raise PermissionDenied("admin_required", "only an admin may do this")
    return principal


AdminDep = Annotated[Principal, Depends(get_admin)]


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.user_id, "admin" if principal.has_role(ADMIN) else "user")


async def get_actor(principal: PrincipalDep) -> Actor:
    return actor_of(principal)


ActorDep = Annotated[Actor, Depends(get_actor)]


# -- commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """What a command endpoint needs: who, when, the container, and the event context."""

    container: Container
    principal: Principal
    actor: Actor
    now: datetime
    request_id: str

    @contextmanager
    def context(self, **ids: Any) -> Iterator[CommandContext]:
        """Events recorded inside carry this actor and request id (correlation id defaults
        to the request id; pass `correlation_id=`/`causation_id=` to override)."""
        with command_context(self.actor, request_id=self.request_id, **ids) as ctx:
            yield ctx


async def get_command(request: Request) -> Command:
    # What ContainerDep, PrincipalDep and Now give, resolved here rather than as three
    # sub-dependencies: FastAPI solves each one (~0.01 ms of CPU) on every command.
    container: Container = request.app.state.container
    principal = await get_principal(request, container)
    now = container.clock.now()
    return Command(container, principal, actor_of(principal), now, request_id(request))


CommandDep = Annotated[Command, Depends(get_command)]


@contextmanager
def anonymous_context(request: Request) -> Iterator[CommandContext]:
    """For commands without a session (sign-up, login): the system actor, this request's id."""
    with command_context(None, request_id=request_id(request)) as ctx:
        yield ctx
