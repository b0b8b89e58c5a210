"""GET /search/listings and GET /bookings/{id} answer the same on their lean path
(interfaces/http/lean_routes.py, lean_search.py) as on the FastAPI route: status, headers
and bytes, problems included, on SQLite and PostgreSQL; search over random query strings
too. A dependency override sends every request to the FastAPI route (the reference)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.context import Actor
from interfaces.http.lean_routes import LeanRoutes
from tests.http.bookings_support import MISSING, Market, market_factory
from tests.http.conftest import API, Api
from tests.http.test_lean_routes_http import (
    _both,
    _headers,
    assert_same_problem,
    counting_solved,
    fastapi_route,
)
from tests.http.test_search_http import SEARCH, active_listing, wait_indexed


@pytest.fixture
def indexed(any_api: Api) -> Api:
    owner = Actor(uuid.UUID(any_api.new_user().id), "user")
    made = {
        active_listing(
            any_api,
            owner,
            title="Sunny loft near the river",
            amenities=["wifi", "kitchen"],
            pricing={"base": {"amount": 9_500, "currency": "EUR"}},
        ),
        active_listing(
            any_api,
            owner,
            "porto",
            title="Family house with garden",
            amenities=["wifi", "parking"],
            capacity=8,
            booking_mode="request",
        ),
        active_listing(any_api, owner, "madrid", category="vehicle", booking_unit="day"),
    }
    wait_indexed(any_api, made)
    return any_api


def assert_same(lean: httpx.Response, reference: httpx.Response) -> None:
    if reference.status_code >= 400:
        assert_same_problem(lean, reference)
    else:
        assert lean.status_code == reference.status_code, (lean.text, reference.text)
        assert _headers(lean) == _headers(reference)
        assert lean.content == reference.content


def _search(api: Api, query: str, headers: dict[str, str] | None = None) -> None:
    lean, reference = _both(
        api, lambda: api.client.get(f"{SEARCH}?{query}" if query else SEARCH, headers=headers)
    )
    assert_same(lean, reference)


def test_search_and_a_booking_are_served_without_solving_dependencies(
    indexed: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = indexed.app.router.middleware_stack
    assert isinstance(stack, LeanRoutes)
    assert ("GET", SEARCH) in stack.routes
    assert set(stack.templates) == {("GET", f"{API}/bookings/")}
    market = market_factory(indexed)(quantity=1)
    booking_id = market.book(30, 31).json()["id"]
    solved = counting_solved(monkeypatch)
    assert indexed.client.get(SEARCH, params={"q": "loft", "limit": 5}).status_code == 200
    assert market.get(booking_id).status_code == 200
    assert solved == []
    assert indexed.client.get(SEARCH, params={"instant_book": "yes"}).status_code == 200
    assert indexed.client.get(f"{API}/bookings/{booking_id.replace('-', '')}").status_code == 401
    assert len(solved) == 2


# One indexed market serves every query: seeding it per query was ~1.3 s of set-up each.
QUERIES = [
    "",
    "q=loft",
    "q=lisbn&limit=1&offset=1",
    "category=vehicle&sort=newest",
    "lat=38.7223&lng=-9.1393&radius_km=300&sort=distance",
    "bbox=-10,38,-8,42&min_price=0&max_price=10000&currency=eur",
    "guests=2&quantity=1&instant_book=true",
    "instant_book=0&instant_book=false",
    "amenities=wifi,kitchen&amenities=&amenities=wifi",
    "amenities=wifi&amenities=parking&unknown=1&sort=price_desc",
    "limit=5&limit=2",  # the last one counts
    "start=2031-03-01&end=2031-03-04&quantity=2",
    "start=2031-03-01T10:00:00Z&end=2031-03-01T12:00:00Z",
    "q=" + "x" * 200,
    "q=" + "x" * 201,
    "limit=0",
    "limit=101",
    "limit=",
    "limit=+5",
    "limit=05",
    "limit=1e1",
    "offset=-1",
    "lat=91&lng=0",
    "lat=1e1&lng=0",
    "lat=-0&lng=0&radius_km=0",
    "radius_km=5",
    "currency=EU",
    "currency=EURO",
    "category=",
    "category=Stay",
    "sort=cheapest",
    "sort=distance",
    "instant_book=yes",
    "instant_book=maybe",
    "guests=0&min_price=-5",
    "start=2031-03-01",
    "bbox=1,2,3",
]


def test_a_search_is_the_same_answer(indexed: Api) -> None:
    for query in QUERIES:
        try:
            _search(indexed, query)
        except AssertionError as error:
            raise AssertionError(f"query {query!r}: {error}") from error


def test_a_search_waiting_for_a_position_is_the_same_answer(indexed: Api) -> None:
    position = str(indexed.container.store.current_position())
    _search(indexed, "q=loft", {"X-Rentbook-Min-Position": position})
    _search(indexed, "", {"X-Rentbook-Min-Position": "nope"})


def test_a_signed_in_search_is_the_same_answer(indexed: Api) -> None:
    _search(indexed, "sort=newest", indexed.new_user().headers)
    _search(indexed, "", {"Authorization": "Bearer nope"})


_NAMES = [
    "q", "category", "lat", "lng", "radius_km", "bbox", "min_price", "max_price", "currency",
    "guests", "amenities", "instant_book", "start", "end", "quantity", "sort", "limit",
    "offset", "other",
]  # fmt: skip
_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "-1",
            "5",
            "20",
            "100",
            "1001",
            "1.5",
            "-9.1",
            "38.72",
            "1e2",
            "+3",
            "true",
            "false",
            "True",
            "yes",
            "stay",
            "vehicle",
            "newest",
            "distance",
            "price_asc",
            "eur",
            "EUR",
            "wifi,kitchen",
            "loft",
            "-10,38,-8,42",
            "2031-03-01",
            "2031-03-04",
            "nan",
            "inf",
            " 5",
        ]
    ),
    st.text(max_size=8),
    st.integers(-5, 2000).map(str),
    st.floats(-200, 200, allow_nan=False).map(str),
)
_QUERIES = st.lists(st.tuples(st.sampled_from(_NAMES), _VALUES), max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=_QUERIES)
def test_random_query_strings_get_the_same_answer(
    indexed: Api, pairs: list[tuple[str, str]]
) -> None:
    _search(indexed, str(httpx.QueryParams(pairs)))


@pytest.fixture
def market(any_api: Api) -> Market:
    return market_factory(any_api)(quantity=1)


def test_a_booking_read_is_the_same_answer(market: Market) -> None:
    booking_id = market.book(30, 31).json()["id"]
    stranger = market.api.new_user()
    for path_id in (booking_id, booking_id.upper(), MISSING):
        for auth in (market.renter, market.owner, market.admin, stranger):
            lean, reference = _both(market.api, lambda: market.get(path_id, auth))  # noqa: B023
            assert_same(lean, reference)
    with fastapi_route(market.api):
        assert market.get(booking_id).status_code == 200


def test_a_booking_id_that_is_not_canonical_is_the_same_answer(market: Market) -> None:
    for path_id in ["not-a-uuid", "0" * 32, "{00000000-0000-4000-8000-000000000000}", "1", "%20"]:
        lean, reference = _both(market.api, lambda: market.get(path_id))  # noqa: B023
        assert lean.status_code == reference.status_code, path_id
        assert_same(lean, reference)


def test_a_booking_read_without_a_session_is_the_same_401(market: Market) -> None:
    booking_id = market.book(30, 31).json()["id"]
    lean, reference = _both(
        market.api, lambda: market.api.client.get(f"{API}/bookings/{booking_id}")
    )
    assert lean.status_code == 401
    assert_same(lean, reference)
