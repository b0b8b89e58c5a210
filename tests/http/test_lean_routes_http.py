"""POST /bookings and GET /users/me answer the same on their lean path as on the FastAPI route
(interfaces/http/lean_routes.py): status, headers and bytes, problems included, on SQLite and
PostgreSQL. A dependency override (any) sends every request to the FastAPI route, which is
how each test gets the reference answer from the same app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import fastapi.routing
import httpx
import pytest

from infrastructure import metrics
from interfaces.http.lean_routes import LeanRoutes
from tests.http.bookings_support import MISSING, Market, market_factory
from tests.http.conftest import API, Api

# Headers that differ between any two requests by design.
_PER_REQUEST = frozenset({"x-request-id", "date"})


@pytest.fixture
def market(any_api: Api) -> Market:
    return market_factory(any_api)(quantity=1)


def _unused() -> None:  # overridden, never depended on: only switches the lean path off
    return None


@contextmanager
def fastapi_route(api: Api) -> Iterator[None]:
    api.app.dependency_overrides[_unused] = _unused
    try:
        yield
    finally:
        del api.app.dependency_overrides[_unused]


def _headers(r: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in r.headers.multi_items() if k not in _PER_REQUEST]


def _problem(r: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = r.json()
    assert body.pop("request_id") == r.headers["x-request-id"]
    return body


def _both(api: Api, send: Any) -> tuple[httpx.Response, httpx.Response]:
    lean = send()
    with fastapi_route(api):
        reference = send()
    return lean, reference


def assert_same_problem(lean: httpx.Response, reference: httpx.Response) -> None:
    assert lean.status_code == reference.status_code, (lean.text, reference.text)
    assert _headers(lean) == _headers(reference)
    assert _problem(lean) == _problem(reference)


def counting_solved(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The dependants FastAPI solves from now on: none, where the lean path serves."""
    solved: list[object] = []
    real = fastapi.routing.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        solved.append(kwargs.get("dependant"))
        return await real(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return solved


def test_the_lean_path_serves_both_routes_without_solving_dependencies(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = market.api.app.router.middleware_stack
    assert isinstance(stack, LeanRoutes)
    assert {("POST", f"{API}/bookings"), ("GET", f"{API}/users/me")} <= set(stack.routes)
    solved = counting_solved(monkeypatch)
    assert market.book(30, 31).status_code == 201
    me = market.api.client.get(f"{API}/users/me", headers=market.renter.headers)
    assert me.status_code == 200
    assert solved == []
    with fastapi_route(market.api):
        assert market.book(32, 33).status_code == 201
    assert len(solved) == 1


def test_a_placed_booking_answers_as_the_fastapi_route_does(market: Market) -> None:
    commands = metrics.COMMANDS.labels("place_booking", "ok")
    before = commands._value.get()
    nights = iter([40, 42])
    lean, reference = _both(market.api, lambda: market.book(n := next(nights), n + 1))

    assert lean.status_code == reference.status_code == 201
    assert [k for k, _ in _headers(lean)] == [k for k, _ in _headers(reference)]
    for name in ("content-type", "etag"):
        assert lean.headers[name] == reference.headers[name]
    booking_id = lean.json()["id"]
    assert lean.headers["location"] == f"{API}/bookings/{booking_id}"
    assert int(lean.headers["x-rentbook-position"]) < int(reference.headers["x-rentbook-position"])
    # The same booking read through FastAPI's GET route: the same model, the same bytes.
    with fastapi_route(market.api):  # GET /bookings/{id} has a lean path too
        assert lean.content == market.get(booking_id).content
    assert commands._value.get() - before == 2  # the command is named on both paths


@pytest.mark.parametrize(
    "body",
    [
        {"start": "2031-01-01"},  # fields missing
        {"listing_id": "not-a-uuid", "start": "x", "end": "y"},
        [],
        None,
    ],
    ids=["missing", "wrong_types", "a_list", "null"],
)
def test_a_body_that_does_not_validate_is_the_same_422(market: Market, body: Any) -> None:
    lean, reference = _both(
        market.api,
        lambda: market.api.client.post(f"{API}/bookings", json=body, headers=market.renter.headers),
    )
    assert lean.status_code == 422
    assert_same_problem(lean, reference)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"listing_id": ', "application/json"),
        (b"", "application/json"),
        (b'{"listing_id": "x"}', "text/plain"),
        (b'{"listing_id": "x"}', None),
    ],
    ids=["broken_json", "empty", "text_plain", "no_content_type"],
)
def test_a_body_that_is_not_json_is_refused_the_same_way(
    market: Market, content: bytes, content_type: str | None
) -> None:
    headers = dict(market.renter.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type

    def send() -> httpx.Response:
        return market.api.client.post(f"{API}/bookings", content=content, headers=headers)

    lean, reference = _both(market.api, send)
    assert lean.status_code >= 400
    assert_same_problem(lean, reference)


def test_without_a_session_it_is_the_same_401(market: Market) -> None:
    body = {"listing_id": market.listing_id, "start": market.day(50), "end": market.day(51)}
    lean, reference = _both(
        market.api, lambda: market.api.client.post(f"{API}/bookings", json=body)
    )
    assert lean.status_code == 401
    assert lean.headers["www-authenticate"] == "Bearer"
    assert_same_problem(lean, reference)


def test_an_unknown_listing_is_the_same_404(market: Market) -> None:
    body = {"listing_id": MISSING, "start": market.day(50), "end": market.day(51)}
    lean, reference = _both(
        market.api,
        lambda: market.api.client.post(f"{API}/bookings", json=body, headers=market.renter.headers),
    )
    assert lean.status_code == 404
    assert_same_problem(lean, reference)


def test_taken_units_are_the_same_409(market: Market) -> None:
    assert market.book(60, 62).status_code == 201
    lean, reference = _both(market.api, lambda: market.book(61, 63))
    assert lean.status_code == 409
    assert_same_problem(lean, reference)


def test_a_rule_violation_is_the_same_422(market: Market) -> None:
    lean, reference = _both(market.api, lambda: market.book(70, 71, guests=999))
    assert lean.status_code == 422
    assert_same_problem(lean, reference)


def test_an_idempotent_retry_replays_the_lean_answer_byte_for_byte(market: Market) -> None:
    def twice(key: str, start: int) -> tuple[httpx.Response, httpx.Response]:
        headers = {"Idempotency-Key": key}
        return market.book(start, start + 1, headers=headers), market.book(
            start, start + 1, headers=headers
        )

    lean_first, lean_again = twice("lean", 80)
    with fastapi_route(market.api):
        first, again = twice("fastapi", 82)
    assert lean_first.status_code == lean_again.status_code == first.status_code == 201
    assert lean_again.content == lean_first.content
    assert _headers(lean_again) == [*_headers(lean_first), ("idempotent-replayed", "true")]
    assert [k for k, _ in _headers(lean_again)] == [k for k, _ in _headers(again)]


def test_users_me_is_the_same_answer(any_api: Api) -> None:
    alice = any_api.new_user()

    def me(headers: dict[str, str]) -> httpx.Response:
        return any_api.client.get(f"{API}/users/me", headers=headers)

    lean, reference = _both(any_api, lambda: me(alice.headers))
    assert lean.status_code == reference.status_code == 200
    assert lean.content == reference.content
    assert _headers(lean) == _headers(reference)
    assert re.fullmatch(r'"\d+"', lean.headers["etag"])
    lean, reference = _both(any_api, lambda: me({"Authorization": "Bearer nope"}))
    assert lean.status_code == 401
    assert_same_problem(lean, reference)
    lean, reference = _both(any_api, lambda: me({}))
    assert_same_problem(lean, reference)
