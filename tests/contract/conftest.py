"""The contract corpus and one `search_backend` fixture per backend.

Backends: the fake (always); Meilisearch when MEILISEARCH_URL is set (skipped otherwise, the
one allowed skip); the embedded SQLite and PostgreSQL backends as soon as their modules exist.
`empty_backend` is a fresh, settings-applied index per test; `search_backend` one holding
CORPUS per backend and module, for tests that only read it.

The corpus is shaped so that Meilisearch rules the contract does not model never decide an
order: distinct ratings and created_at, `wifi` first in every amenities list, query words at
the same position of their attribute, no single-element arrays, no proximity-only ties.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
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


@contextmanager
def _backend(name: str, tmp_path: Path, pg_url: Callable[[], str]) -> Iterator[SearchIndex]:
    """A fresh, settings-applied, empty index of backend `name`, removed after."""
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

            engine = create_views_engine(pg_url(), pool_size=2)
            index = PostgresSearchIndex(engine)
        index.ensure_settings()
        try:
            yield index
        finally:
            engine.dispose()


@pytest.fixture
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    """A fresh, settings-applied, empty index of the backend named by the param."""
    with _backend(request.param, tmp_path, lambda: request.getfixturevalue("pg_url")) as index:
        yield index


@pytest.fixture(scope="module")
def _corpus_backends(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, SearchIndex]]:
    """Backend name -> an index holding CORPUS, made on first use and kept for the module:
    the tests of `search_backend` only read (search, get), and building one per test (a
    PostgreSQL database each) was most of the module's time."""
    from tests.conftest import PG_ADMIN_URL, _with_db

    with ExitStack() as stack:

        def pg_url() -> str:
            name = f"rentbook_t_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            dropper = request.getfixturevalue("_pg_dropper")
            stack.callback(dropper.drop, name)  # after the engine's disposal (LIFO)
            return _with_db(PG_ADMIN_URL, name)

        class Built(dict[str, SearchIndex]):
            def __missing__(self, name: str) -> SearchIndex:
                path = tmp_path_factory.mktemp(f"contract-{name}")
                index = stack.enter_context(_backend(name, path, pg_url))
                index.upsert(CORPUS)
                self[name] = index
                return index

        yield Built()


@pytest.fixture
def search_backend(
    request: pytest.FixtureRequest, _corpus_backends: dict[str, SearchIndex]
) -> SearchIndex:
    """The backend named by the param, holding CORPUS (shared by the module's tests: read
    it, never write)."""
    return _corpus_backends[request.param]
