"""Hand-written hostile inputs for `test_hostile_inputs_http.py`, part one: huge integers,
the ends of the calendar, control characters, deep nesting, 1 MB bodies."""

from __future__ import annotations

import json
from typing import Any

from tests.builders import listing_spec


def _nested(depth: int) -> str:
    """JSON text of `depth` nested objects, built without recursion."""
    return '{"a":' * depth + "1" + "}" * depth


def _listing_text(nested_at: str, depth: int, **overrides: Any) -> str:
    """A valid listing's JSON with `nested_at` (a string value in it) replaced by nesting."""
    return json.dumps(_listing_with(**overrides)).replace(json.dumps(nested_at), _nested(depth))


def _listing_with(**overrides: Any) -> dict[str, Any]:
    return listing_spec(**overrides)


def _location(**overrides: Any) -> dict[str, Any]:
    return {**listing_spec()["location"], **overrides}


MB = 1024 * 1024
# (id, method, path, request kwargs). `{listing}` is an active nightly listing of another
# owner, `{hourly}` an active hourly one, `{own}` a draft of the caller, `{booking}` the
# caller's booking, `{payment}` its payment. JSON bodies given as `content` are sent raw.
HOSTILE: list[tuple[str, str, str, dict[str, Any]]] = [
    # -- huge integers
    (
        "huge int quantity",
        "POST",
        "/bookings",
        {"json": {"listing_id": "{listing}", "start": "{d1}", "end": "{d3}", "quantity": 10**100}},
    ),
    ("huge int limit", "GET", "/me/bookings?limit=100000000000000000000000000000", {}),
    (
        "huge int from_version",
        "GET",
        "/admin/streams/{booking}/events?from_version=" + "9" * 40,
        {},
    ),
    ("huge int price", "PUT", "/listings/{own}/prices/2031-01-01", {"json": {"amount": 10**400}}),
    (
        "huge float lat",
        "POST",
        "/listings",
        {"content": json.dumps(_listing_with()).replace("38.7101", "1e400")},
    ),
    (
        "NaN multiplier",
        "POST",
        "/listings",
        {
            "content": json.dumps(
                _listing_with(
                    pricing={
                        "base": {"amount": 1, "currency": "EUR"},
                        "weekday_multipliers": {"mon": 1.0},
                    }
                )
            ).replace('"mon": 1.0', '"mon": NaN')
        },
    ),
    (
        "huge min position",
        "GET",
        "/me/listings",
        {"headers": {"X-Rentbook-Min-Position": "9" * 30}},
    ),
    (
        "huge If-Match",
        "PATCH",
        "/listings/{own}",
        {"json": {"title": "New title"}, "headers": {"If-Match": '"' + "9" * 30 + '"'}},
    ),
    (
        "huge duration",
        "POST",
        "/listings/{listing}/quote",
        {"json": {"start": "{d1}", "end": "9999-12-31"}},
    ),
    # -- the ends of the calendar
    (
        "booking at year 9999",
        "POST",
        "/bookings",
        {"json": {"listing_id": "{listing}", "start": "9999-12-30", "end": "9999-12-31"}},
    ),
    (
        "quote at year 1",
        "POST",
        "/listings/{listing}/quote",
        {"json": {"start": "0001-01-01", "end": "0001-01-02"}},
    ),
    (
        "hourly quote at the end of time",
        "POST",
        "/listings/{hourly}/quote",
        {"json": {"start": "9999-12-31T22:00:00+00:00", "end": "9999-12-31T23:00:00+00:00"}},
    ),
    (
        "hourly quote at year 1",
        "POST",
        "/listings/{hourly}/quote",
        {"json": {"start": "0001-01-01T00:00:00+00:00", "end": "0001-01-01T01:00:00+00:00"}},
    ),
    (
        "calendar at year 9999",
        "GET",
        "/listings/{listing}/calendar?from=9999-12-30&to=9999-12-31",
        {},
    ),
    (
        "hourly calendar at year 9999",
        "GET",
        "/listings/{hourly}/calendar?from=9999-12-30&to=9999-12-31",
        {},
    ),
    (
        "hourly calendar at year 1",
        "GET",
        "/listings/{hourly}/calendar?from=0001-01-01&to=0001-01-02",
        {},
    ),
    (
        "block at year 9999",
        "POST",
        "/listings/{own}/blocks",
        {"json": {"start": "9999-12-30", "end": "9999-12-31"}},
    ),
    ("price at year 9999", "PUT", "/listings/{own}/prices/9999-12-31", {"json": {"amount": 1}}),
    ("audit from year 1", "GET", "/admin/audit?from=0001-01-01T00:00:00%2B14:00", {}),
    ("audit to year 9999", "GET", "/admin/audit?to=9999-12-31T23:59:59-14:00", {}),
    ("state at year 1", "GET", "/admin/streams/{booking}/state?at=0001-01-01T00:00:00%2B14:00", {}),
    (
        "state at year 9999",
        "GET",
        "/admin/streams/{booking}/state?at=9999-12-31T23:59:59-14:00",
        {},
    ),
    # -- NUL bytes and control characters
    ("NUL in listing title", "POST", "/listings", {"json": _listing_with(title="Nice\x00flat")}),
    (
        "NUL in listing city",
        "POST",
        "/listings",
        {"json": _listing_with(location=_location(city="Lis\x00bon"))},
    ),
    ("NUL in amenity", "POST", "/listings", {"json": _listing_with(amenities=["wi\x00fi"])}),
    (
        "NUL in other category data",
        "POST",
        "/listings",
        {"json": _listing_with(category="other", category_data={"colour": "re\x00d"})},
    ),
    ("NUL in patch description", "PATCH", "/listings/{own}", {"json": {"description": "a\x00b"}}),
    (
        "NUL in booking start",
        "POST",
        "/bookings",
        {"json": {"listing_id": "{listing}", "start": "2031-01-01\x00", "end": "{d3}"}},
    ),
    (
        "NUL in block reason",
        "POST",
        "/listings/{own}/blocks",
        {"json": {"start": "{d1}", "end": "{d2}", "reason": "\x00"}},
    ),
    (
        "NUL in register name",
        "POST",
        "/auth/register",
        {"json": {"email": "nul@example.com", "password": "long enough pw", "name": "A\x00"}},
    ),
    (
        "NUL in register email",
        "POST",
        "/auth/register",
        {"json": {"email": "n\x00ul@example.com", "password": "long enough pw", "name": "A"}},
    ),
    (
        "NUL in login email",
        "POST",
        "/auth/login",
        {"json": {"email": "\x00", "password": "long enough pw"}},
    ),
    ("NUL in audit type", "GET", "/admin/audit?type=%00&actor=%00", {}),
    ("NUL in booking status filter", "GET", "/me/bookings?status=%00", {}),
    ("NUL in cursor", "GET", "/me/bookings?cursor=%00", {}),
    ("NUL in projection name", "POST", "/admin/projections/%00/rebuild", {}),
    ("NUL in reject reason", "POST", "/admin/listings/{own}/reject", {"json": {"reason": "\x00"}}),
    # -- deeply nested JSON
    ("nested body 100k", "POST", "/bookings", {"content": "[" * 100_000 + "]" * 100_000}),
    (
        "nested category data 900",
        "POST",
        "/listings",
        {"content": _listing_text("N", 900, category="other", category_data={"k": "N"})},
    ),
    (
        "nested category data 200",
        "POST",
        "/listings",
        {"content": _listing_text("N", 200, category="other", category_data={"k": "N"})},
    ),
    ("nested stay data", "POST", "/listings", {"content": _listing_text("apartment", 500)}),
    (
        "nested patch",
        "PATCH",
        "/listings/{own}",
        {"content": '{"category_data": ' + _nested(900) + "}"},
    ),
    (
        "nested opening hours",
        "POST",
        "/listings",
        {
            "content": _listing_text(
                "N", 300, category="court", opening_hours={"mon": [["N", "10:00"]]}
            )
        },
    ),
    # -- 1 MB bodies
    ("1 MB description", "POST", "/listings", {"json": _listing_with(description="x" * MB)}),
    (
        "1 MB other category data",
        "POST",
        "/listings",
        {"json": _listing_with(category="other", category_data={"blob": "x" * MB})},
    ),
    (
        "1 MB of keys in other data",
        "POST",
        "/listings",
        {
            "json": _listing_with(
                category="other", category_data={f"k{i}": i for i in range(MB // 12)}
            )
        },
    ),
    (
        "1 MB booking message",
        "POST",
        "/bookings",
        {"json": {"listing_id": "{listing}", "start": "{d1}", "end": "{d3}", "message": "x" * MB}},
    ),
    (
        "1 MB register password",
        "POST",
        "/auth/register",
        {"json": {"email": "big@example.com", "password": "x" * MB, "name": "Big"}},
    ),
    ("1 MB of whitespace", "POST", "/bookings", {"content": " " * MB}),
    (
        "1 MB amenities",
        "POST",
        "/listings",
        {"json": _listing_with(amenities=["a" * 50] * (MB // 50))},
    ),
    (
        "1 MB Idempotency-Key",
        "POST",
        "/listings/{own}/blocks",
        {"json": {"start": "{d1}", "end": "{d2}"}, "headers": {"Idempotency-Key": "k" * MB}},
    ),
]
