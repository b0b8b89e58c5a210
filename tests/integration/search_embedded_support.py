"""Documents, engines and indexes of the embedded search backend tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from application.search import SearchIndex, SearchQuery
from infrastructure.search_postgres import PostgresSearchIndex
from infrastructure.search_sqlite import SqliteSearchIndex
from infrastructure.views_db import create_views_engine

PARIS = (48.8566, 2.3522)


def uid(n: int) -> str:
    return str(uuid.UUID(int=n))


def doc(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": uid(n),
        "version": 1,
        "title": f"Listing {n}",
        "description": "A place",
        "category": "stay",
        "category_data": {"bedrooms": 2},
        "city": "Paris",
        "country": "France",
        "_geo": {"lat": PARIS[0], "lng": PARIS[1]},
        "price_amount": 10_000,
        "currency": "EUR",
        "capacity": 2,
        "units": 1,
        "amenities": ["wifi"],
        "booking_mode": "instant",
        "booking_unit": "night",
        "rating": 4.0,
        "review_count": 0,
        "created_at": 1_700_000_000 + n,
        "blocked_nights": [-1],
        "blocked_hours": [-1],
    }
    return base | fields


ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def engine_for(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The `engine` fixture of the embedded search tests: a SQLite file or a PostgreSQL
    database, by the fixture's parameter."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = create_views_engine(url, pool_size=2)  # the shared server's connections
    yield engine
    engine.dispose()


def open_index(engine: Engine) -> SearchIndex:
    index: SearchIndex = (
        SqliteSearchIndex(engine)
        if engine.dialect.name == "sqlite"
        else PostgresSearchIndex(engine)
    )
    index.ensure_settings()
    return index


def ids(index: SearchIndex, query: SearchQuery) -> list[str]:
    return [h.document["id"] for h in index.search(query).hits]
