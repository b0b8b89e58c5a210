"""RFC 9457 problem details for every error, and the 500 for what escaped the app.

Domain errors map to HTTP here and only here: routers raise (or let through) `DomainError`s
and `ProblemError`s and never build error responses themselves.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import psycopg
import redis
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Scope

from application.payment_gateway import GatewayDeclined, GatewayError
from application.search import SearchIndexError
from domain.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    LockedError,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
)
from domain.media import MediaTooLarge, UnsupportedMedia
from domain.user import AccountLockedError

log = logging.getLogger("rentbook.http")

# Databases or Redis down or saturated: the client should retry, not report a bug.
_UNAVAILABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    psycopg.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

PROBLEM_TYPE = "https://rentbook.dev/problems/"
MEDIA_TYPE = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-Id"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

_STATUS_BY_FAMILY: tuple[tuple[type[DomainError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDenied, 403),
    (NotFoundError, 404),
    (LockedError, 423),
    (ConflictError, 409),
    (RuleViolation, 422),
    (UnsupportedMedia, 415),
    (MediaTooLarge, 413),
)


class ProblemError(Exception):
    """An HTTP-level refusal (429, 412, 503, ...) raised from dependencies and helpers."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = dict(headers or {})
        self.extra = extra


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    status: int, code: str, detail: str, *, instance: str | None = None, **extra: Any
) -> bytes:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": _title(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return json.dumps(body, default=str, separators=(",", ":")).encode()


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    request: Request | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    if request is not None:
        extra.setdefault("request_id", getattr(request.state, "request_id", None))
    instance = request.url.path if request is not None else None
    return Response(
        problem_body(status, code, detail, instance=instance, **extra),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def status_of(error: DomainError) -> int:
    if isinstance(error, ConflictError) and error.code == "version_mismatch":
        return 412
    for family, status in _STATUS_BY_FAMILY:
        if isinstance(error, family):
            return status
    return 400


# -- handlers ------------------------------------------------------------------------------


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = status_of(exc)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, AccountLockedError):
        extra["locked_until"] = exc.until.isoformat()
        now = request.app.state.container.clock.now()
        headers["Retry-After"] = str(max(1, math.ceil((exc.until - now).total_seconds())))
    return problem_response(status, exc.code, exc.detail, request=request, headers=headers, **extra)


async def _problem_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status, exc.code, exc.detail, request=request, headers=exc.headers, **exc.extra
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", "invalid"))}
        for err in exc.errors()
    ]
    return problem_response(
        422, "validation_failed", "the request is not valid", request=request, errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(
        exc.status_code, _title(exc.status_code).lower().replace(" ", "_").replace("-", "_")
    )
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    return problem_response(
        exc.status_code, code, detail, request=request, headers=exc.headers or {}
    )


async def _gateway_error(request: Request, exc: Exception) -> Response:
    """The payment processor did not do what was asked: never the client's fault, so a
    5xx, but a described one (retryable errors say when to come back)."""
    assert isinstance(exc, GatewayError)
    if exc.retryable:
        return problem_response(
            503,
            "processor_unavailable",
            "the payment processor did not answer; try again",
            request=request,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, GatewayDeclined):
        return problem_response(402, "card_declined", str(exc) or "declined", request=request)
    return problem_response(
        502, "processor_rejected", "the payment processor refused the request", request=request
    )


async def _search_index_error(request: Request, exc: Exception) -> Response:
    """The search index could not answer (not set up yet, or Meilisearch down): retry."""
    log.warning("search index error on %s: %s", request.url.path, exc)
    return problem_response(
        503,
        "search_unavailable",
        "the search index cannot answer right now; try again",
        request=request,
        headers={"Retry-After": "1"},
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(SearchIndexError, _search_index_error)
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


# -- the last resort (interfaces/http/boundary.py, outermost) ---------------------------------


def last_resort(exc: Exception, scope: Scope, request_id: str) -> Response:
    """503 when a database or Redis is down or saturated (retry), else a logged 500."""
    method, path = scope.get("method"), scope.get("path")
    if isinstance(exc, _UNAVAILABLE):
        log.warning("%s %s: a backing service is unavailable: %s", method, path, exc)
        status, code, detail = 503, "service_unavailable", "a service is unavailable; retry"
        headers = {"Retry-After": "1"}
    else:
        log.exception("unhandled error in %s %s", method, path)
        status, code, detail = 500, "internal_error", "an unexpected error; it has been logged"
        headers = {}
    body = problem_body(status, code, detail, instance=path, request_id=request_id)
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)
