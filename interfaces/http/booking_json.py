"""A booking's answer as JSON bytes, serialised once (issue #9).

`BookingPublic.of(b)` built and validated a model in the command thread, and the route then
validated it again against its response model and dumped it with pydantic-core: 22 to 42 µs
of a POST /bookings' ~1.4 ms with its `Response`, the model's `__init__` about half. Here the
same fields, in `BookingPublic`'s order, are plain values dumped by orjson (~14 µs with the
`Response`, bench/README.md "Task A2"), byte for byte the body the model gave
(`tests/http/test_booking_body_bytes.py`). The response model still documents the route. A
booking with check-in or check-out records (their reports are models of their own) or a
value orjson refuses (an integer over 64 bits, a non-string key) takes the model path, as
before; non-finite floats are `null` in both.
"""

from __future__ import annotations

import orjson
from fastapi import Response

from domain.booking import Booking
from interfaces.http.booking_schemas import BookingPublic, booking_fields

_OPTIONS = orjson.OPT_UTC_Z  # pydantic-core writes a zero UTC offset as `Z`


def _model_body(b: Booking) -> bytes:
    """What the route's response model gave: validated, then dumped by pydantic-core."""
    return BookingPublic.__pydantic_serializer__.to_json(BookingPublic.of(b), by_alias=True)


def booking_body(b: Booking) -> bytes:
    """`BookingPublic.of(b)` as the route's JSON body, byte for byte."""
    if b.check_ins or b.check_outs:
        return _model_body(b)
    try:
        return orjson.dumps(booking_fields(b), option=_OPTIONS)
    except TypeError:  # over 64 bits, a key not a string, a type orjson does not know
        return _model_body(b)


def booking_response(response: Response, b: Booking, status_code: int = 200) -> Response:
    """The answer with the headers set on the endpoint's `response` parameter after its own,
    as FastAPI merges them (FastAPI sends a returned `Response` as it is)."""
    answer = Response(booking_body(b), status_code=status_code, media_type="application/json")
    answer.headers.raw.extend(response.headers.raw)
    return answer
