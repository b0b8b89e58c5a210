"""Who is browsing, and the CSRF check every unsafe web request passes.

A signed-in visitor carries the API's own session cookie (`rentbook_session`, HttpOnly) and
its per-session csrf token; an anonymous visitor (sign-in and sign-up forms) gets a random
token in a `rentbook_csrf` cookie (double submit). Forms send the token as the `csrf_token`
field, htmx as the `X-CSRF-Token` header (set once on <body>)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from application.context import Actor
from application.identity import Principal
from application.work_scope import bind_actor
from domain.booking import Booking
from domain.errors import AuthenticationError, PermissionDenied
from domain.user import ADMIN
from infrastructure.bootstrap import Container

SESSION_COOKIE = "rentbook_session"  # the API's cookie: one session for both
ANON_CSRF_COOKIE = "rentbook_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("csrf_failed", "the form expired or did not come from this site")


@dataclass(frozen=True)
class Visitor:
    container: Container
    principal: Principal | None
    csrf_token: str
    fresh_anon_token: bool  # set the anonymous csrf cookie on the response
    request_id: str

    @property
    def signed_in(self) -> bool:
        return self.principal is not None

    @property
    def is_admin(self) -> bool:
        return self.principal is not None and self.principal.has_role(ADMIN)

    @property
    def actor(self) -> Actor | None:
        p = self.principal
        return Actor(p.user_id, "admin" if p.has_role(ADMIN) else "user") if p else None

    @property
    def now(self) -> datetime:
        return self.container.clock.now()

    def read_your_writes(self, position: int, *views: str, timeout: float = 5.0) -> None:
        """Before redirecting after a command: wait (bounded) until the views the next page
        reads include it, as the API's `X-Rentbook-Min-Position` does. Past the bound the
        page shows the views as they are, a moment behind."""
        if position:
            self.container.runner.wait_for(position, list(views) or None, timeout)

    def require(self) -> Actor:
        """The acting user; AuthenticationError (a redirect to /login) when anonymous."""
        actor = self.actor
        if actor is None:
            raise AuthenticationError("not_authenticated", "sign in first")
        return actor

    def booking(self, booking_id: UUID) -> tuple[Actor, Booking]:
        """The signed-in user and a booking they may see (the use case's own check: 404
        for anyone else's)."""
        actor = self.require()
        return actor, self.container.bookings.get(booking_id, viewer=actor)

    def require_admin(self) -> Actor:
        actor = self.require()
        if actor.role != "admin":
            raise PermissionDenied("admin_required", "only an admin may open this page")
        return actor

    def finish(self, response: Response) -> Response:
        """Sets the anonymous csrf cookie when this request made one up."""
        if self.fresh_anon_token and self.principal is None:
            response.set_cookie(
                ANON_CSRF_COOKIE, self.csrf_token, httponly=True, samesite="strict", path="/"
            )
        return response


def _principal(container: Container, token: str | None) -> Principal | None:
    if not token:
        return None
    try:
        return container.identity.authenticate(token, at=container.clock.now())
    except AuthenticationError:
        return None


async def get_visitor(request: Request) -> Visitor:
    cached = getattr(request.state, "_web_visitor", None)
    if isinstance(cached, Visitor):
        return cached
    container: Container = request.app.state.container
    principal = await run_in_threadpool(_principal, container, request.cookies.get(SESSION_COOKIE))
    fresh = False
    if principal is not None:
        token = principal.csrf_token
        bind_actor(str(principal.user_id), "admin" if principal.has_role(ADMIN) else "user")
    else:
        token = request.cookies.get(ANON_CSRF_COOKIE, "")
        if len(token) < 20:
            token, fresh = secrets.token_urlsafe(24), True
    visitor = Visitor(
        container, principal, token, fresh, str(getattr(request.state, "request_id", "") or "")
    )
    request.state._web_visitor = visitor
    return visitor


VisitorDep = Annotated[Visitor, Depends(get_visitor)]


async def get_form(request: Request, visitor: VisitorDep) -> dict[str, str]:
    """The submitted form's text fields, after the CSRF check (header or field)."""
    form = await request.form()
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "")
        if not sent or not secrets.compare_digest(sent, visitor.csrf_token):
            raise CsrfRefused()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


FormDep = Annotated[dict[str, str], Depends(get_form)]
