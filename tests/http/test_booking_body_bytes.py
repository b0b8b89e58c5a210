"""A booking's answer written by orjson (`booking_body`) is, byte for byte, the body the route's
response model gave (`BookingPublic.of`, dumped as FastAPI's response field dumps it), for any
booking values, the ones orjson refuses or a model must write (stay records) included; and the
HTTP answers of place, read and cancel carry those bytes, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from application.context import Actor
from domain.booking import Booking
from interfaces.http.booking_json import booking_body
from interfaces.http.booking_schemas import BookingPublic
from tests.http.bookings_support import Market, market_factory
from tests.http.conftest import API, Api

_ADAPTER = TypeAdapter(BookingPublic)  # what FastAPI's response field dumps with


def model_body(b: Any) -> bytes:
    return _ADAPTER.dump_json(BookingPublic.of(b), by_alias=True)


json_st = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: over 64 bits orjson refuses, the model path answers
    | st.floats()  # infinities and NaN: `null` on both paths
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
json_object_st = st.dictionaries(st.text(max_size=12), json_st, max_size=5)
zone_st = st.sampled_from(
    [UTC, timezone(timedelta(0)), timezone(timedelta(hours=5, minutes=30)), None]
)
when_st = st.builds(
    lambda at, zone: at.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)),
    zone_st,
)
stay_st = st.fixed_dictionaries(
    {"by": st.uuids().map(str), "at": st.just("2031-01-01T10:00:00+00:00"), "report": st.none()}
)
booking_st = st.builds(
    SimpleNamespace,
    id=st.uuids(),
    version=st.integers(1, 10_000),
    listing_id=st.uuids(),
    owner_id=st.uuids(),
    renter_id=st.uuids(),
    status=st.sampled_from(["pending_payment", "pending_owner_approval", "cancelled"]),
    status_reason=st.text(max_size=20),
    unit=st.sampled_from(["night", "day", "hour"]),
    start=st.text(max_size=25),
    end=st.text(max_size=25),
    timezone=st.sampled_from(["UTC", "Europe/Lisbon", "Asia/Kolkata"]),
    quantity=st.integers(1, 10_000),
    guests=st.integers(1, 10_000),
    message=st.text(max_size=40),
    quote=json_object_st,
    policy=json_object_st,
    deposit=st.none() | json_object_st,
    deadlines=st.dictionaries(
        st.sampled_from(["expires_at", "start_at", "end_at", "payout_at"]),
        st.none() | st.text(max_size=25),
    ),
    payment_id=st.none() | st.uuids(),
    refund_due=st.none() | json_object_st,
    placed_at=when_st,
    updated_at=when_st,
    check_ins=st.just({}) | st.dictionaries(st.sampled_from(["renter", "owner"]), stay_st),
    check_outs=st.just({}),
)


@settings(max_examples=300, deadline=None)
@given(booking=booking_st)
def test_the_body_bytes_equal_the_response_models(booking: SimpleNamespace) -> None:
    assert booking_body(cast(Booking, booking)) == model_body(booking)


def test_values_orjson_refuses_take_the_model_path() -> None:
    booking = SimpleNamespace(
        **{**vars(_sample()), "quote": {"total": 2**70, "nested": [{"x": float("nan")}]}}
    )
    assert booking_body(cast(Booking, booking)) == model_body(booking)
    assert b"1180591620717411303424" in booking_body(cast(Booking, booking))


def _sample() -> SimpleNamespace:
    at = datetime(2031, 1, 1, 12, 0, 0, 5, tzinfo=UTC)
    ids = [uuid.uuid4() for _ in range(4)]
    return SimpleNamespace(
        id=ids[0], version=1, listing_id=ids[1], owner_id=ids[2], renter_id=ids[3],
        status="pending_payment", status_reason="", unit="night", start="2031-01-01",
        end="2031-01-02", timezone="UTC", quantity=1, guests=1, message="", quote={},
        policy={}, deposit=None, deadlines={"expires_at": None}, payment_id=None,
        refund_due=None, placed_at=at, updated_at=at, check_ins={}, check_outs={},
    )  # fmt: skip


@pytest.fixture
def market(any_api: Api) -> Market:
    return market_factory(any_api)(quantity=1)


def _stored(market: Market, booking_id: str) -> bytes:
    container = market.api.container
    viewer = Actor(uuid.UUID(market.renter.user["id"]), "user")
    return model_body(container.bookings.get(uuid.UUID(booking_id), viewer=viewer))


def test_http_answers_carry_the_models_bytes(market: Market) -> None:
    placed = market.book(30, 32)
    assert placed.status_code == 201, placed.text
    booking_id = placed.json()["id"]
    assert placed.content == _stored(market, booking_id)
    assert placed.headers["content-type"] == "application/json"
    assert int(placed.headers["content-length"]) == len(placed.content)
    assert placed.headers["location"] == f"{API}/bookings/{booking_id}"
    read = market.get(booking_id)
    assert read.status_code == 200 and read.content == placed.content
    assert read.headers["etag"] == placed.headers["etag"]
    cancelled = market.post(f"/bookings/{booking_id}/cancel", market.renter, {"reason": "x"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.content == _stored(market, booking_id)
    assert cancelled.json()["status"] == "cancelled"
    assert "x-rentbook-position" in cancelled.headers and "etag" in cancelled.headers
