"""GET /api/v1/search/listings without FastAPI's parameter solving (issue #9).

FastAPI validated the endpoint's 20 query parameters one pydantic field at a time (290-480
µs of a ~3 ms search). Here each parameter's usual spellings are read by hand: a value is
taken only when it is in a form whose pydantic result is certain (a plain decimal, `true`,
a listed literal, a string within its length) and within the field's bounds. Anything else
(another spelling, a value out of bounds) goes to the FastAPI route, which answers as
before, 422 problems included. Parameters are read the way FastAPI reads them
(`QueryParams.get`: the last of repeated ones; `getlist` for amenities; unknown ones
ignored), and the same endpoint function runs on the same thread pool.

`X-Rentbook-Min-Position` is handed to the endpoint as FastAPI would (the first such header,
latin-1), and the endpoint does the waiting on either path (views, then the index; 503
with Retry-After). A header spelled with underscores or in upper case, which FastAPI and
Starlette may read differently, goes to the FastAPI route.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from interfaces.http.telemetry import observe_command, observed_command


class _Unsure(Exception):
    """The value is not in a form this path reads: FastAPI's route answers."""


_INT = re.compile(r"0|[1-9][0-9]{0,8}")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]{0,4})(?:\.[0-9]{1,12})?")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}

Reader = Callable[[str], Any]


def _number(pattern: re.Pattern[str], kind: type, bounds: dict[str, Any]) -> Reader:
    low, high = bounds.get("ge", bounds.get("gt")), bounds.get("le", bounds.get("lt"))

    def read(raw: str) -> Any:
        if pattern.fullmatch(raw) is None:
            raise _Unsure
        value = kind(raw)
        if (low is not None and (value <= low if "gt" in bounds else value < low)) or (
            high is not None and (value >= high if "lt" in bounds else value > high)
        ):
            raise _Unsure
        return value

    return read


def _text(max_length: int | None) -> Reader:
    def read(raw: str) -> str:
        if max_length is not None and len(raw) > max_length:
            raise _Unsure
        return raw

    return read


def _matching(pattern: re.Pattern[str]) -> Reader:
    def read(raw: str) -> str:
        if pattern.fullmatch(raw) is None:
            raise _Unsure
        return raw

    return read


def _one_of(choices: frozenset[str]) -> Reader:
    def read(raw: str) -> str:
        if raw not in choices:
            raise _Unsure
        return raw

    return read


def _bool(raw: str) -> bool:
    try:
        return _BOOLS[raw]
    except KeyError:
        raise _Unsure from None


# Patterns whose matches pydantic (Rust regex) and `re.fullmatch` agree on.
_PATTERNS = {"^[A-Za-z]{3}$": re.compile(r"[A-Za-z]{3}")}
_BOUNDS = {Ge: "ge", Gt: "gt", Le: "le", Lt: "lt", MaxLen: "max_length"}


def _reader(field: Any) -> Reader | None:
    """How to read a query parameter declared as `field`, from its annotation and
    constraints; None for a kind this module does not know (FastAPI keeps the route)."""
    annotation = field.field_info.annotation
    args = get_args(annotation)
    if get_origin(annotation) in (Union, UnionType) and len(args) == 2 and type(None) in args:
        [annotation] = [a for a in args if a is not type(None)]  # `X | None`
    bounds: dict[str, Any] = {}
    pattern: str | None = None
    for item in field.field_info.metadata:
        name = _BOUNDS.get(type(item))
        if name is not None:
            bounds[name] = getattr(item, name)
        elif pattern is None and set(vars(item)) == {"pattern"}:  # pydantic's own metadata
            pattern = item.pattern
        else:
            return None
    if annotation is str and pattern is not None:
        compiled = _PATTERNS.get(pattern)
        return _matching(compiled) if compiled and not bounds else None
    if pattern is not None:
        return None
    if annotation is str and set(bounds) <= {"max_length"}:
        return _text(bounds.get("max_length"))
    if annotation is int and "max_length" not in bounds:
        return _number(_INT, int, bounds)
    if annotation is float and "max_length" not in bounds:
        return _number(_FLOAT, float, bounds)
    if bounds:
        return None
    if annotation is bool:
        return _bool
    if get_origin(annotation) is Literal and all(isinstance(a, str) for a in get_args(annotation)):
        return _one_of(frozenset(get_args(annotation)))
    return None


_HEADER = b"x-rentbook-min-position"


@dataclass(frozen=True)
class LeanSearch:
    route: Any
    endpoint: Callable[..., Any]
    readers: dict[str, Reader]
    lists: tuple[str, ...]  # `list[str] | None` parameters: every value, repeats kept
    defaults: dict[str, Any]

    def arguments(self, scope: Scope) -> dict[str, Any] | None:
        """The endpoint's parameters as FastAPI would validate them, or None when unsure."""
        position: str | None = None
        for key, value in scope["headers"]:
            if key == _HEADER:
                if position is None:
                    position = value.decode("latin-1")  # as Starlette's `Headers.get`
            elif key.lower().replace(b"_", b"-") == _HEADER:
                return None
        params = QueryParams(scope["query_string"])
        values = dict(self.defaults)
        values["x_rentbook_min_position"] = position
        try:
            for name, read in self.readers.items():
                raw = params.get(name)
                if raw is not None:
                    values[name] = read(raw)
        except _Unsure:
            return None
        for name in self.lists:
            if given := params.getlist(name):
                values[name] = given
        return values

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, fallback: ASGIApp, router: Any
    ) -> None:
        values = self.arguments(scope)
        if values is None:
            await fallback(scope, receive, send)
            return
        scope["route"], scope["endpoint"], scope["path_params"] = self.route, self.endpoint, {}
        scope.setdefault("router", router)
        request = Request(scope, receive)
        with observed_command(scope["method"], self.route.name):
            response = await run_in_threadpool(self.endpoint, request=request, **values)
            await response(scope, receive, send)


def lean_search(context: Any) -> LeanSearch | None:
    """The lean path of `search_listings`, or None when a parameter is of a kind this module
    does not read (then FastAPI keeps the route)."""
    dependant = context.dependant
    readers: dict[str, Reader] = {}
    lists: list[str] = []
    for field in dependant.query_params:
        if field.alias != field.name:
            return None
        if field.field_info.annotation == list[str] | None and not field.field_info.metadata:
            lists.append(field.name)
        elif (reader := _reader(field)) is not None:
            readers[field.name] = reader
        else:
            return None
    if (
        [f.name for f in dependant.header_params] != ["x_rentbook_min_position"]
        or tuple(d.call for d in dependant.dependencies) != (observe_command,)
        or dependant.path_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.request_param_name != "request"
        or len(context.methods or ()) != 1
    ):
        return None
    defaults = {f.name: f.default for f in dependant.query_params}
    defaults["x_rentbook_min_position"] = None
    return LeanSearch(context.original_route, context.endpoint, readers, tuple(lists), defaults)
