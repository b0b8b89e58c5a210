"""The web router's route class: domain errors become pages, not problem+json.

Anonymous visitors asking for a signed-in page are sent to /login (back here afterwards);
other errors render the error page with the API's status for the same error family, so a
page answers 404 exactly where the API does."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from domain.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    LockedError,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
)
from interfaces.web.templating import render

_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDenied, 403),
    (NotFoundError, 404),
    (LockedError, 423),
    (ConflictError, 409),
    (RuleViolation, 422),
)


def status_of(error: DomainError) -> int:
    return next((s for family, s in _STATUS if isinstance(error, family)), 400)


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except AuthenticationError:
                if request.method == "GET" and "hx-request" not in request.headers:
                    target = quote(str(request.url.path) + _query(request), safe="")
                    return RedirectResponse(f"/login?next={target}", status_code=303)
                return _error_page(request, 401, "Please sign in again.")
            except DomainError as error:
                return _error_page(request, status_of(error), error.detail)

        return page_handler


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


def _error_page(request: Request, status: int, detail: str) -> Response:
    titles = {403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Cannot do that"}
    return render(
        request,
        "error.html",
        {"status": status, "title": titles.get(status, "Something went wrong"), "detail": detail},
        status_code=status,
    )
