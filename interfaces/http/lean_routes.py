"""The hottest routes served without FastAPI's per-request machinery (issue #9).

`POST /api/v1/bookings` and `GET /api/v1/users/me` spent more of the event loop's CPU in
FastAPI (route matching across the included routers, `solve_dependencies` with its
cookie and query parsing, the request and response models' generic handling, two exit
stacks) than in their own code. `LeanRoutes` sits where the router is, inside the
exception middleware, and serves those two itself: it parses and validates the body with
the route's own body field, resolves the same dependencies by calling them, awaits the same
endpoint, and validates and serialises the result with the route's own response field, so
status, headers (in the same order) and bytes are FastAPI's. Problems are FastAPI's too:
a dependency's or the endpoint's error goes to the same exception handlers, and a request
the lean path is not sure about (not `application/json`, an empty, unreadable, invalid or
non-validating body, dependency overrides, a root path) goes to the FastAPI route with its
body replayed, which answers it as before (422 problems included).

The FastAPI routes stay for OpenAPI and as that fallback. A route whose dependencies are not
the ones a lean spec expects (someone changed its signature) is left to FastAPI entirely.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.http.deps import get_command, get_container, get_principal
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
}


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

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, fallback: ASGIApp, router: Any
    ) -> None:
        received: list[Message] = []
        kwargs: dict[str, Any] = {}
        if self.body_field is not None:
            body = await self._body(scope, receive, received)
            if body is None:
                await fallback(scope, _replaying(received, receive), send)
                return
            kwargs[self.body_field.name] = body
        scope["route"], scope["endpoint"], scope["path_params"] = self.route, self.endpoint, {}
        scope.setdefault("router", router)
        request = Request(scope, receive)
        with observed_command(scope["method"], self.name):
            kwargs.update(await self.arguments(request))
            sub = Response()  # what the endpoint's `response` parameter sets headers on
            del sub.headers["content-length"]
            sub.status_code = None  # type: ignore[assignment]
            result = await self.endpoint(response=sub, **kwargs)
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

    def __init__(self, app: FastAPI, router: ASGIApp, routes: dict[tuple[str, str], LeanRoute]):
        self.fastapi, self.router, self.routes = app, router, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            lean = self.routes.get((scope["method"], scope["path"]))
            if lean is not None and not self.fastapi.dependency_overrides:
                await lean.serve(scope, receive, send, self.router, self.fastapi.router)
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
    if (
        tuple(d.call for d in dependant.dependencies) != expected
        or dependant.path_params
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
    )


def _first_match(contexts: list[Any], method: str, path: str) -> Any:
    """The route FastAPI selects for `method path`: the first that fully matches."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    for context in contexts:
        if context.matches(scope)[0] == Match.FULL:
            return context
    return None


def install_lean_routes(app: FastAPI) -> dict[tuple[str, str], LeanRoute]:
    """Puts `LeanRoutes` in the router's place; returns the routes it serves: those FastAPI
    itself would select for their path (no route ahead of them matches it)."""
    contexts = list(iter_route_contexts(app.router.routes))
    routes: dict[tuple[str, str], LeanRoute] = {}
    for context in contexts:
        lean = lean_route(context)
        if lean is not None and context.methods and context.path:
            [method] = context.methods
            if _first_match(contexts, method, context.path) is context:
                routes[(method, context.path)] = lean
    if routes:
        app.router.middleware_stack = LeanRoutes(app, app.router.middleware_stack, routes)
    return routes
