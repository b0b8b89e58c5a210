"""Hand-written hostile inputs for `test_hostile_inputs_http.py`, part two: bodies that
are not UTF-8, invalid ids, dates and instants, and assorted others."""

from __future__ import annotations

import json
from typing import Any

from tests.http.hostile_inputs import _listing_with, _location

HOSTILE_MORE: list[tuple[str, str, str, dict[str, Any]]] = [
    # -- not UTF-8
    (
        "latin-1 body",
        "POST",
        "/listings/{listing}/quote",
        {"content": '{"start": "{d1}", "end": "caf\xe9"}'.encode("latin-1")},
    ),
    ("invalid bytes body", "POST", "/auth/login", {"content": b"\xff\xfe\xfd"}),
    (
        "UTF-16 body",
        "POST",
        "/bookings",
        {"content": json.dumps({"listing_id": "{listing}"}).encode("utf-16")},
    ),
    (
        "lone surrogate in title",
        "POST",
        "/listings",
        {"content": json.dumps(_listing_with()).replace("A fine stay", "A fine \\ud800 stay")},
    ),
    (
        "lone surrogate in other data",
        "POST",
        "/listings",
        {
            "content": json.dumps(
                _listing_with(category="other", category_data={"k": "SURR"})
            ).replace("SURR", "\\udfff")
        },
    ),
    (
        "lone surrogate in booking message",
        "POST",
        "/bookings",
        {
            "content": json.dumps(
                {"listing_id": "{listing}", "start": "{d1}", "end": "{d3}", "message": "SURR"}
            ).replace("SURR", "\\ud800")
        },
    ),
    (
        "lone surrogate in register name",
        "POST",
        "/auth/register",
        {
            "content": json.dumps(
                {"email": "s@example.com", "password": "long enough pw", "name": "SURR"}
            ).replace("SURR", "\\ud800")
        },
    ),
    ("invalid percent-encoding in query", "GET", "/admin/audit?type=%ff%fe", {}),
    # -- invalid UUID path parameters
    ("bad uuid listing", "GET", "/listings/not-a-uuid", {}),
    ("bad uuid booking", "POST", "/bookings/12345/cancel", {"json": {"reason": "x"}}),
    ("bad uuid block", "DELETE", "/listings/{own}/blocks/zzz", {}),
    ("bad uuid stream", "GET", "/admin/streams/%00/events", {}),
    ("bad uuid session", "DELETE", "/auth/sessions/" + "f" * 300, {}),
    ("bad uuid payment", "POST", "/dev/payments/%ff/succeed", {}),
    (
        "bad uuid in body",
        "POST",
        "/bookings",
        {"json": {"listing_id": "nope", "start": "{d1}", "end": "{d3}"}},
    ),
    # -- invalid dates
    (
        "Feb 30 booking",
        "POST",
        "/bookings",
        {"json": {"listing_id": "{listing}", "start": "2026-02-30", "end": "2026-03-02"}},
    ),
    (
        "Feb 30 quote",
        "POST",
        "/listings/{listing}/quote",
        {"json": {"start": "2031-02-27", "end": "2031-02-30"}},
    ),
    (
        "Feb 30 block",
        "POST",
        "/listings/{own}/blocks",
        {"json": {"start": "2026-02-30", "end": "2026-03-02"}},
    ),
    ("Feb 30 price", "PUT", "/listings/{own}/prices/2026-02-30", {"json": {"amount": 1}}),
    ("Feb 30 calendar", "GET", "/listings/{listing}/calendar?from=2026-02-30&to=2026-03-02", {}),
    (
        "month 13",
        "POST",
        "/listings/{listing}/quote",
        {"json": {"start": "2031-13-01", "end": "2031-13-02"}},
    ),
    ("Feb 30 audit", "GET", "/admin/audit?from=2026-02-30T00:00:00Z", {}),
    (
        "hour 24 hourly",
        "POST",
        "/listings/{hourly}/quote",
        {"json": {"start": "{d1}T24:00:00+00:00", "end": "{d2}T01:00:00+00:00"}},
    ),
    (
        "offset +24:00 hourly",
        "POST",
        "/listings/{hourly}/quote",
        {"json": {"start": "{d1}T10:00:00+24:00", "end": "{d1}T11:00:00+24:00"}},
    ),
    (
        "offset +99:99 hourly",
        "POST",
        "/bookings",
        {
            "json": {
                "listing_id": "{hourly}",
                "start": "{d1}T10:00:00+99:99",
                "end": "{d1}T11:00:00+00:00",
            }
        },
    ),
    (
        "Feb 30 hourly",
        "POST",
        "/listings/{hourly}/quote",
        {"json": {"start": "2031-02-30T10:00:00Z", "end": "2031-02-30T11:00:00Z"}},
    ),
    (
        "date for hourly",
        "POST",
        "/listings/{hourly}/quote",
        {"json": {"start": "{d1}", "end": "{d2}"}},
    ),
    (
        "datetime for nightly",
        "POST",
        "/listings/{listing}/quote",
        {"json": {"start": "{d1}T15:00:00Z", "end": "2031-01-03T11:00:00Z"}},
    ),
    (
        "full-width digits",
        "POST",
        "/listings/{listing}/quote",
        {"json": {"start": "\uff12\uff10\uff13\uff11-01-01", "end": "{d3}"}},
    ),
    # -- RFC 3339 without an offset, for hourly listings
    (
        "naive hourly quote",
        "POST",
        "/listings/{hourly}/quote",
        {"json": {"start": "{d1}T10:00:00", "end": "{d1}T11:00:00"}},
    ),
    (
        "naive hourly booking",
        "POST",
        "/bookings",
        {"json": {"listing_id": "{hourly}", "start": "{d1}T10:00:00", "end": "{d1}T12:00:00"}},
    ),
    (
        "naive hourly block",
        "POST",
        "/listings/{hourly}/blocks",
        {"json": {"start": "{d1}T10:00:00", "end": "{d1}T12:00:00"}},
    ),
    (
        "half-naive hourly booking",
        "POST",
        "/bookings",
        {"json": {"listing_id": "{hourly}", "start": "{d1}T10:00:00Z", "end": "{d1}T12:00:00"}},
    ),
    ("naive audit instant", "GET", "/admin/audit?from={d1}T10:00:00", {}),
    ("naive state instant", "GET", "/admin/streams/{booking}/state?at={d1}T10:00:00", {}),
    # -- assorted
    (
        "bad timezone",
        "POST",
        "/listings",
        {"json": _listing_with(location=_location(timezone="../../etc/passwd"))},
    ),
    (
        "timezone with NUL",
        "POST",
        "/listings",
        {"json": _listing_with(location=_location(timezone="Europe/Lisbon\x00"))},
    ),
    (
        "unknown currency mix",
        "POST",
        "/listings",
        {"json": _listing_with(deposit={"amount": 1, "currency": "USD"})},
    ),
    ("body is a list", "POST", "/listings", {"json": [1, 2, 3]}),
    ("body is a string", "POST", "/bookings", {"json": "hello"}),
    ("body is null", "POST", "/listings/{listing}/quote", {"json": None}),
    (
        "empty body with JSON type",
        "POST",
        "/bookings",
        {"content": b"", "headers": {"Content-Type": "application/json"}},
    ),
    ("form body", "POST", "/bookings", {"data": {"listing_id": "x"}}),
    (
        "wrong content type",
        "POST",
        "/auth/login",
        {"content": b'{"email":"a@b.c","password":"x"}', "headers": {"Content-Type": "text/plain"}},
    ),
    (
        "duplicate keys",
        "POST",
        "/listings/{listing}/quote",
        {"content": '{"start": "{d1}", "start": 5, "end": "{d3}"}'},
    ),
    ("bad cursor base64", "GET", "/auth/sessions?cursor=!!!!", {}),
    ("cursor of a list", "GET", "/me/bookings?cursor=WzEsMl0", {}),
    ("cursor of a huge number", "GET", "/auth/sessions?cursor=eyJvIjogMWU0MDB9", {}),
    (
        "cursor offset huge int",
        "GET",
        "/auth/sessions?cursor=eyJvIjo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5fQ",
        {},
    ),
    ("listing cursor forged", "GET", "/me/listings?cursor=eyJ0IjogIngiLCAiaSI6IFtdfQ", {}),
    ("events cursor forged", "GET", "/admin/streams/{booking}/events?cursor=eyJ2IjogMWU0MDB9", {}),
    ("audit cursor forged", "GET", "/admin/audit?cursor=eyJwIjogIngifQ", {}),
    ("listing cursor with garbage", "GET", "/me/listings?cursor=WyJub3QgYSBkYXRlIiwgIngiXQ", {}),
    ("bookings cursor with garbage", "GET", "/me/bookings?cursor=WyJub3QgYSBkYXRlIiwgIngiXQ", {}),
    ("audit cursor with garbage", "GET", "/admin/audit?cursor=WyJ4Il0", {}),
    (
        "audit cursor past bigint",
        "GET",
        "/admin/audit?cursor=WyI5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OSJd",
        {},
    ),
    ("audit cursor of a superscript digit", "GET", "/admin/audit?cursor=WyJcdTAwYjIiXQ", {}),
    ("role enum", "GET", "/me/bookings?role=admin", {}),
]
