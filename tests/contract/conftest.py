"""The contract corpus and one `search_backend` fixture per backend.

Backends: the fake (always); Meilisearch when MEILISEARCH_URL is set (skipped otherwise, the
one allowed skip); the embedded SQLite and PostgreSQL backends as soon as their modules exist.
Each test gets a fresh, settings-applied index holding CORPUS.

The corpus is shaped so that Meilisearch rules the contract does not model never decide an
order: distinct ratings and created_at, `wifi` first in every amenities list, query words at
the same position of their attribute, no single-element arrays, no proximity-only ties.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from application.search import SENTINEL_DAY, SearchIndex
from tests.contract.corpus_rows import ROWS_FIRST
from tests.contract.corpus_rows_more import ROWS_MORE
from tests.search_fake import FakeMeilisearchIndex

LIVE_SKIP_REASON = "MEILISEARCH_URL is not set"
DAY0 = 20_270  # 2025-07-01 as a day number
HOUR0 = DAY0 * 24

CITIES: dict[str, tuple[str, float, float, str]] = {
    "lisbon": ("Lisbon", 38.7223, -9.1393, "Portugal"),
    "porto": ("Porto", 41.1579, -8.6291, "Portugal"),
    "paris": ("Paris", 48.8566, 2.3522, "France"),
    "berlin": ("Berlin", 52.5200, 13.4050, "Germany"),
    "barcelona": ("Barcelona", 41.3874, 2.1686, "Spain"),
    "amsterdam": ("Amsterdam", 52.3676, 4.9041, "Netherlands"),
}

# n, title, category, category_data, city, amenities, price, capacity, units, mode, description
ROWS: list[tuple[Any, ...]] = ROWS_FIRST + ROWS_MORE

UNIT_BY_CATEGORY = {
    "stay": "night",
    "vehicle": "day",
    "equipment": "day",
    "space": "hour",
    "court": "hour",
    "other": "day",
}


def listing_id(n: int) -> str:
    return str(uuid.UUID(int=(0x5EA4C4 << 96) | n))


def _document(row: tuple[Any, ...]) -> dict[str, Any]:
    n, title, category, data, city, amenities, price, capacity, units, mode, description = row
    city_name, lat, lng, country = CITIES[city]
    unit = UNIT_BY_CATEGORY[category]
    # Each listing a little off its city centre (never on top of another), so every
    # distance is distinct; ratings and created_at are distinct too.
    offset = (n % 7 - 3) * 0.0113 + n * 0.0007
    blocked_nights = [SENTINEL_DAY]
    blocked_hours = [SENTINEL_DAY]
    if unit == "hour":
        blocked_hours += [HOUR0 + 10 + (n % 3), HOUR0 + 14 + (n % 2)]
    else:
        blocked_nights += [DAY0 + (n % 4), DAY0 + 3 + (n % 5)]
    return {
        "id": listing_id(n),
        "version": 1,
        "title": title,
        "description": description,
        "category": category,
        "category_data": data,
        "city": city_name,
        "country": country,
        "_geo": {"lat": round(lat + offset, 6), "lng": round(lng - offset * 1.3, 6)},
        "price_amount": price,
        "currency": "USD" if n in (7, 22, 39) else "EUR",
        "capacity": capacity,
        "units": units,
        "amenities": amenities,
        "booking_mode": mode,
        "booking_unit": unit,
        "rating": round(3.0 + ((n * 37) % 41) / 20, 2),
        "review_count": (n * 13) % 50,
        "created_at": 1_735_689_600 + ((n * 7919) % 997) * 3600,
        "blocked_nights": blocked_nights,
        "blocked_hours": blocked_hours,
    }


CORPUS: list[dict[str, Any]] = [_document(row) for row in ROWS]


def corpus_fake(**kwargs: Any) -> FakeMeilisearchIndex:
    fake = FakeMeilisearchIndex(**kwargs)
    fake.ensure_settings()
    fake.upsert(CORPUS)
    return fake


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def backend_names() -> list[str]:
    names = ["fake", "meilisearch"]
    names += [n for n in ("sqlite", "postgres") if _available(f"infrastructure.search_{n}")]
    return names


@pytest.fixture
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    """A fresh, settings-applied, empty index of the backend named by the param."""
    name = request.param
    if name == "fake":
        index: SearchIndex = FakeMeilisearchIndex()
        index.ensure_settings()
        yield index
    elif name == "meilisearch":
        url = os.environ.get("MEILISEARCH_URL")
        if not url:
            pytest.skip(LIVE_SKIP_REASON)
        from infrastructure.search_meilisearch import MeilisearchIndex

        uid = f"contract_{uuid.uuid4().hex[:12]}"
        live = MeilisearchIndex(url, os.environ.get("MEILISEARCH_API_KEY"), uid)
        live.ensure_settings()
        try:
            yield live
        finally:
            live._client.delete_index(uid)
    else:
        from infrastructure.views_db import create_views_engine

        if name == "sqlite":
            from infrastructure.search_sqlite import (
                SqliteSearchIndex,
            )

            engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
            index = SqliteSearchIndex(engine)
        else:
            from infrastructure.search_postgres import (
                PostgresSearchIndex,
            )

            engine = create_views_engine(request.getfixturevalue("pg_url"), pool_size=2)
            index = PostgresSearchIndex(engine)
        index.ensure_settings()
        try:
            yield index
        finally:
            engine.dispose()


@pytest.fixture
def search_backend(empty_backend: SearchIndex) -> SearchIndex:
    """A backend holding CORPUS."""
    empty_backend.upsert(CORPUS)
    return empty_backend
