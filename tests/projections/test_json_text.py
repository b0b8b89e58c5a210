"""JSON columns written from text the view encoded itself read back as the values were."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, Table, select

from infrastructure.eventstore import views_url
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.base import new_metadata, upsert, write_transaction
from projections.json_text import JSONText, encode

SHARED = {
    "booking_id": "b-1",
    "total": 12_000,
    "title": "Chalet \u00e0 la montagne \u2603",
    "tags": [1, None],
}
VALUES: list[Any] = [
    SHARED,
    SHARED,  # one encoding for two rows
    {"nested": {"a": [1.5, True, False]}, "empty": {}},
    {1: "int keys become strings, as json writes them"},
    {"big": 2**70},  # beyond orjson: json writes it exactly
    [],
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def views(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    if request.param == "sqlite":
        settings = Settings(environment="test", data_dir=tmp_path / "var")
    else:
        pg_url = request.getfixturevalue("pg_url")
        settings = Settings(environment="test", database_url=pg_url, data_dir=tmp_path / "var")
    engine = create_views_engine(views_url(settings))
    yield engine
    engine.dispose()


def test_encoded_values_read_back_as_json_would_round_trip_them(views: Engine) -> None:
    metadata = new_metadata()
    table = Table(
        "json_text_probe",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("data", JSONText, nullable=False),
    )
    encoded: dict[int, str] = {}
    rows = [{"id": n, "data": encoded.setdefault(id(v), encode(v))} for n, v in enumerate(VALUES)]
    with write_transaction(views) as conn:
        metadata.create_all(conn)
        upsert(conn, table, rows)
    with views.connect() as conn:
        stored = {row.id: row.data for row in conn.execute(select(table.c.id, table.c.data))}
    assert stored == {n: json.loads(json.dumps(v)) for n, v in enumerate(VALUES)}
    assert len(encoded) == len(VALUES) - 1


def test_what_orjson_refuses_is_written_by_json() -> None:
    assert json.loads(encode({1: "a"})) == {"1": "a"}
    assert json.loads(encode({"big": 2**70})) == {"big": 2**70}
