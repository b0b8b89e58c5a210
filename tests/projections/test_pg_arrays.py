"""Columns packed as binary arrays by `projections/pg_arrays.py` reach PostgreSQL as the
arrays psycopg itself sends, and what it does not pack stays a list for psycopg."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from projections.json_text import encode, jsonb_text
from projections.pg_arrays import PackedArray, packed

INDIA = timezone(timedelta(hours=5, minutes=30))
COLUMNS: list[tuple[str, list[Any]]] = [
    ("uuid", [uuid4(), None, uuid4()]),
    ("text", ["plain", "", 'quote " back \\ tab \t é 😀', None]),
    ("varchar(40)[]::text", ["kind", None]),
    ("int8", [0, -1, 2**63 - 1, -(2**63), None, 5]),
    ("int4", [7, None, -7]),
    (
        "timestamptz",
        [
            datetime(2026, 12, 6, 10, 1, 2, 345678, tzinfo=UTC),
            datetime(1970, 1, 1, tzinfo=INDIA),
            datetime(1, 1, 1, tzinfo=UTC),
            datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            None,
        ],
    ),
    ("jsonb", [jsonb_text(encode({"a": [1, "é", None]})), None, jsonb_text('"x\\\\"')]),
]


@pytest.fixture
def conn(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url) as c:
        yield c


def as_sent(conn: psycopg.Connection[Any], cast: str, value: Any) -> str | None:
    row = conn.execute(f"SELECT %b::{cast}[]::text", (value,)).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.postgres
@pytest.mark.parametrize(("cast", "values"), COLUMNS, ids=[c for c, _ in COLUMNS])
def test_a_packed_column_is_the_array_psycopg_sends(
    conn: psycopg.Connection[Any], cast: str, values: list[Any]
) -> None:
    column = packed(values)
    assert isinstance(column, PackedArray)
    assert as_sent(conn, cast, column) == as_sent(conn, cast, values)


@pytest.mark.postgres
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(
        st.none() | st.text(st.characters(exclude_categories=["Cs"]).filter(lambda c: c != "\x00")),
        min_size=1,
    ),
    numbers=st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), min_size=1),
    instants=st.lists(st.none() | st.datetimes(timezones=st.just(UTC)), min_size=1),
)
def test_random_columns_arrive_as_psycopg_sends_them(  # the database is only read
    pg_url: str, texts: list[str | None], numbers: list[int | None], instants: list[Any]
) -> None:
    with psycopg.connect(pg_url) as conn:
        for cast, values in (("text", texts), ("int8", numbers), ("timestamptz", instants)):
            assert as_sent(conn, cast, packed(values)) == as_sent(conn, cast, values)


@pytest.mark.parametrize(
    "values",
    [
        [],
        [None, None],
        [2**70, 1],  # beyond int8: psycopg sends numeric
        [datetime(2026, 1, 1)],  # naive: psycopg's timestamp
        [1, "a"],
        [True, False],
        [Decimal("1.5")],
        [Jsonb({"a": 1})],  # a value psycopg encodes itself
    ],
)
def test_what_is_not_packed_stays_a_list(values: list[Any]) -> None:
    assert packed(values) is values
