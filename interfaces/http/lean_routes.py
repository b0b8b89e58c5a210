"""The hottest routes served without FastAPI's per-request machinery (issue #9).

`POST /api/v1/bookings` and `GET /api/v1/users/me` spent more of the event loop's CPU in
FastAPI (route matching across the included routers, `solve_dependencies` with its
cookie and query parsing, the request and response models' generic handling, two exit
stacks) than in their own code. `LeanRoutes` sits where the router is, inside the
exception middleware, and serves those two itself: it parses and validates the body with
the route's own body field, resolves the same dependencies by calling them, awaits the same
endpoint, and validates and serialises the result with the route's own response field (or,
as FastAPI does, sends a `Response` the endpoint returned as it is), so status, headers (in
the same order) and bytes are FastAPI's. Problems are FastAPI's too:
a dependency's or the endpoint's error goes to the same exception handlers, and a request
the lean path is not sure about (not `application/json`, an empty, unreadable, invalid or
non-validating body, dependency overrides, a root path) goes to the FastAPI route with its
body replayed, which answers it as before (422 problems included).

GET /api/v1/bookings/{booking_id} is served the same way when the id is a canonical UUID
(the one spelling whose pydantic value is certain; any other goes to the FastAPI route, 422
included), and GET /api/v1/search/listings by `lean_search`, which reads its query
parameters by hand.

The FastAPI routes stay for OpenAPI and as that fallback. A route whose dependencies are not
the ones a lean spec expects (someone changed its signature) is left to FastAPI entirely.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from fastapi import FastAPI
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.http.deps import get_command, get_container, get_principal
from interfaces.http.lean_search import LeanSearch, lean_search
from interfaces.http.offload import run_in_command_thread
from interfaces.http.telemetry import observe_command, observed_command

Arguments = Callable[[Request], Awaitable[dict[str, Any]]]


async def _command_arguments(request: Request) -> dict[str, Any]:
    return {"command": await get_command(request)}


async def _principal_arguments(request: Request) -> dict[str, Any]:
    container = await get_container(request)
    return {"principal": await get_principal(request, container), "container": container}


# Route name -> (the dependencies FastAPI resolves for it, in order; how we resolve them).
SPECS: dict[str, tuple[tuple[Callable[..., Any], ...], Arguments]] = {
    "place_booking": ((observe_command, get_command), _command_arguments),
    "get_me": ((observe_command, get_principal, get_container), _principal_arguments),
    "get_booking": ((observe_command, get_command), _command_arguments),
}
# A UUID path parameter in the one form whose pydantic value is certain: the canonical one.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SAMPLE_UUID = "00000000-0000-4000-8000-000000000000"


class Served(Protocol):
    async def serve(
        self, scope: Scope, receive: Receive, send: Send, fallback: ASGIApp, router: Any
    ) -> None: ...


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """`application/json` (parameters allowed): a content type FastAPI also reads as JSON."""
    for key, value in headers:
        if key == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


def _replaying(received: list[Message], receive: Receive) -> Receive:
    """`receive` giving back what was already received, in order, then the rest."""
    pending = list(received)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


@dataclass(frozen=True)
class LeanRoute:
    name: str
    route: Any  # the APIRoute FastAPI would select (`scope["route"]`: metrics, command name)
    endpoint: Callable[..., Awaitable[Any]]
    arguments: Arguments
    body_field: Any  # FastAPI's ModelField, or None
    response_field: Any
    status_code: int
    is_coroutine: bool
    path_param: str | None = None  # a UUID's name: the route's only path parameter

    async def serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        fallback: ASGIApp,
        router: Any,
        path_value: str | None = None,
    ) -> None:
        received: list[Message] = []
        kwargs: dict[str, Any] = {}
        path_params: dict[str, str] = {}
        if self.path_param is not None and path_value is not None:
            path_params[self.path_param] = path_value
            kwargs[self.path_param] = UUID(path_value)
        if self.body_field is not None:
            body = await self._body(scope, receive, received)
            if body is None:
                await fallback(scope, _replaying(received, receive), send)
                return
            kwargs[self.body_field.name] = body
        scope["route"], scope["endpoint"] = self.route, self.endpoint
        scope["path_params"] = path_params
        scope.setdefault("router", router)
        request = Request(scope, receive)
        with observed_command(scope["method"], self.name):
            kwargs.update(await self.arguments(request))
            sub = Response()  # what the endpoint's `response` parameter sets headers on
            del sub.headers["content-length"]
            sub.status_code = None  # type: ignore[assignment]
            if self.is_coroutine:
                result = await self.endpoint(response=sub, **kwargs)
            else:
                result = await run_in_command_thread(
                    functools.partial(self.endpoint, response=sub, **kwargs)
                )
            if isinstance(result, Response):  # already the answer: FastAPI sends it as it is
                await result(scope, receive, send)
                return
            value, errors = self.response_field.validate(result, {}, loc=("response",))
            if errors:
                raise ResponseValidationError(errors=errors, body=result)
            response = Response(
                self.response_field.serialize_json(value, by_alias=True),
                status_code=sub.status_code or self.status_code,
                media_type="application/json",
            )
            response.headers.raw.extend(sub.headers.raw)
            await response(scope, receive, send)

    async def _body(self, scope: Scope, receive: Receive, received: list[Message]) -> Any:
        """The validated body, or None when FastAPI should answer (and refuse) it."""
        if not _is_json(scope["headers"]):
            return None
        chunks: list[bytes] = []
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                return None  # the client left: FastAPI's 400
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        if not raw:
            return None
        try:
            data = json.loads(raw)  # as FastAPI's `Request.json()`
        except Exception:
            return None
        value, errors = self.body_field.validate(data, {}, loc=("body",))
        return None if errors else value


class LeanRoutes:
    """In the router's place (`Router.middleware_stack`): the lean routes by method and
    path, everything else to the router."""

    def __init__(
        self,
        app: FastAPI,
        router: ASGIApp,
        routes: dict[tuple[str, str], Served],
        templates: dict[tuple[str, str], LeanRoute],
    ):
        self.fastapi, self.router, self.routes = app, router, routes
        self.templates = templates  # (method, path up to the UUID parameter) -> route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and not scope.get("root_path")
            and not self.fastapi.dependency_overrides
        ):
            method, path = scope["method"], scope["path"]
            lean = self.routes.get((method, path))
            if lean is not None:
                await lean.serve(scope, receive, send, self.router, self.fastapi.router)
                return
            head, _, tail = path.rpartition("/")
            template = self.templates.get((method, head + "/"))
            if template is not None and _UUID.fullmatch(tail):
                await template.serve(scope, receive, send, self.router, self.fastapi.router, tail)
                return
        await self.router(scope, receive, send)


def lean_route(context: Any) -> LeanRoute | None:
    """The lean version of a FastAPI route (its effective route context), or None when it
    has none or does not have the dependencies its spec expects."""
    spec = SPECS.get(context.name)
    if spec is None:
        return None
    expected, arguments = spec
    dependant = context.dependant
    body_params = dependant.body_params
    path_param = _uuid_path_param(context)
    if (
        tuple(d.call for d in dependant.dependencies) != expected
        or (dependant.path_params and path_param is None)
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.response_param_name != "response"
        or len(body_params) > 1
        or (body_params and context.body_field is not body_params[0])  # embedded: a wrapper
        or context.response_field is None
        or len(context.methods or ()) != 1
    ):
        return None
    return LeanRoute(
        name=context.name,
        route=context.original_route,
        endpoint=context.endpoint,
        arguments=arguments,
        body_field=body_params[0] if body_params else None,
        response_field=context.response_field,
        status_code=context.status_code or 200,
        is_coroutine=inspect.iscoroutinefunction(context.endpoint),
        path_param=path_param,
    )


def _uuid_path_param(context: Any) -> str | None:
    """The name of the route's path parameter when it is its only one, a plain `UUID` and
    the path's last segment."""
    params = context.dependant.path_params
    if len(params) != 1:
        return None
    [field] = params
    info = field.field_info
    if (
        info.annotation is not UUID
        or info.metadata
        or field.alias != field.name
        or not context.path.endswith(f"/{{{field.name}}}")
        or context.path.count("{") != 1
    ):
        return None
    return str(field.name)


def _first_match(contexts: list[Any], method: str, path: str) -> Any:
    """The route FastAPI selects for `method path`: the first that fully matches."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    for context in contexts:
        if context.matches(scope)[0] == Match.FULL:
            return context
    return None


def install_lean_routes(app: FastAPI) -> LeanRoutes | None:
    """Puts `LeanRoutes` in the router's place, serving the routes FastAPI itself would
    select for their paths (no route ahead of them matches; for a UUID template, a sample
    UUID's path)."""
    routes: dict[tuple[str, str], Served] = {}
    templates: dict[tuple[str, str], LeanRoute] = {}
    # Contexts are built lazily, and building all ~250 costs ~0.9 s of CPU (each test app
    # pays it); the hot routers come first, so stop once every candidate has been seen.
    wanted = set(SPECS) | {"search_listings"}
    contexts: list[Any] = []  # every context up to this one: what FastAPI tries before it
    for context in iter_route_contexts(app.router.routes):
        if not wanted:
            break
        contexts.append(context)
        wanted.discard(context.name)
        lean: LeanRoute | LeanSearch | None = (
            lean_search(context) if context.name == "search_listings" else lean_route(context)
        )
        if lean is None or not context.methods or not context.path:
            continue
        [method] = context.methods
        if isinstance(lean, LeanRoute) and lean.path_param is not None:
            head = context.path.rsplit("/", 1)[0] + "/"
            if _first_match(contexts, method, head + _SAMPLE_UUID) is context:
                templates[(method, head)] = lean
        elif _first_match(contexts, method, context.path) is context:
            routes[(method, context.path)] = lean
    if not routes and not templates:
        return None
    lean_routes = LeanRoutes(app, app.router.middleware_stack, routes, templates)
    app.router.middleware_stack = lean_routes
    return lean_routes
