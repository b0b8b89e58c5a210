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
ROWS: list[tuple[Any, ...]] = [
    (
        1,
        "Sunny loft near the river",
        "stay",
        {"property_type": "apartment", "bedrooms": 1, "beds": 1, "bathrooms": 1.0},
        "lisbon",
        ["wifi", "kitchen", "balcony"],
        9500,
        2,
        1,
        "instant",
        "Bright rooms above a bakery, five minutes from the tram.",
    ),
    (
        2,
        "Quiet apartment in Alfama",
        "stay",
        {"property_type": "apartment", "bedrooms": 2, "beds": 2, "bathrooms": 1.0},
        "lisbon",
        ["wifi", "washer"],
        12000,
        4,
        1,
        "request",
        "Tiled walls and a view over the old town.",
    ),
    (
        3,
        "Family house with garden",
        "stay",
        {"property_type": "house", "bedrooms": 4, "beds": 6, "bathrooms": 2.5},
        "porto",
        ["wifi", "parking", "garden"],
        21000,
        8,
        1,
        "request",
        "Room for everyone and a barbecue by the lemon tree.",
    ),
    (
        4,
        "Riverside cabin retreat",
        "stay",
        {"property_type": "cabin", "bedrooms": 1, "beds": 2, "bathrooms": 1.0},
        "porto",
        ["wifi", "fireplace", "parking"],
        8000,
        3,
        1,
        "instant",
        "Wood stove, river sounds, no neighbours.",
    ),
    (
        5,
        "Artist loft in Marais",
        "stay",
        {"property_type": "apartment", "bedrooms": 1, "beds": 1, "bathrooms": 1.0},
        "paris",
        ["wifi", "kitchen"],
        16000,
        2,
        1,
        "instant",
        "Exposed beams and a piano in the corner.",
    ),
    (
        6,
        "Cozy room near Montmartre",
        "stay",
        {"property_type": "room", "bedrooms": 1, "beds": 1, "bathrooms": 0.5},
        "paris",
        ["wifi", "heating"],
        6500,
        1,
        3,
        "instant",
        "A Café downstairs serves breakfast until noon.",
    ),
    (
        7,
        "Spacious villa with pool",
        "stay",
        {"property_type": "villa", "bedrooms": 5, "beds": 8, "bathrooms": 4.0},
        "barcelona",
        ["wifi", "pool", "parking"],
        45000,
        10,
        1,
        "request",
        "Sea views from every bedroom.",
    ),
    (
        8,
        "Canal apartment with bikes",
        "stay",
        {"property_type": "apartment", "bedrooms": 2, "beds": 3, "bathrooms": 1.0},
        "amsterdam",
        ["wifi", "bicycle"],
        18000,
        4,
        2,
        "instant",
        "Houseboat neighbours and tulips on the sill.",
    ),
    (
        9,
        "Kreuzberg studio flat",
        "stay",
        {"property_type": "apartment", "bedrooms": 0, "beds": 1, "bathrooms": 1.0},
        "berlin",
        ["wifi", "kitchen", "washer"],
        7000,
        2,
        1,
        "instant",
        "Late night kebab around the corner.",
    ),
    (
        10,
        "Beach apartment Barceloneta",
        "stay",
        {"property_type": "apartment", "bedrooms": 2, "beds": 2, "bathrooms": 1.0},
        "barcelona",
        ["wifi", "balcony", "aircon"],
        15000,
        4,
        1,
        "request",
        "Two streets from the sand.",
    ),
    (
        11,
        "Electric hatchback for city trips",
        "vehicle",
        {
            "make": "Renault",
            "model": "Zoe",
            "year": 2022,
            "seats": 5,
            "transmission": "automatic",
            "fuel": "electric",
        },
        "paris",
        ["gps", "childseat"],
        5500,
        5,
        2,
        "instant",
        "Charging card included.",
    ),
    (
        12,
        "Convertible roadster",
        "vehicle",
        {
            "make": "Mazda",
            "model": "MX5",
            "year": 2019,
            "seats": 2,
            "transmission": "manual",
            "fuel": "petrol",
        },
        "lisbon",
        ["gps", "bluetooth"],
        9000,
        2,
        1,
        "request",
        "Top down along the coast road.",
    ),
    (
        13,
        "Family minivan seven seats",
        "vehicle",
        {
            "make": "Volkswagen",
            "model": "Touran",
            "year": 2020,
            "seats": 7,
            "transmission": "manual",
            "fuel": "diesel",
        },
        "porto",
        ["gps", "childseat"],
        8500,
        7,
        1,
        "instant",
        "Roof box on request.",
    ),
    (
        14,
        "Camper van for road trips",
        "vehicle",
        {
            "make": "Volkswagen",
            "model": "California",
            "year": 2018,
            "seats": 4,
            "transmission": "manual",
            "fuel": "diesel",
        },
        "berlin",
        ["kitchen", "heating"],
        13000,
        4,
        1,
        "request",
        "Pop-up roof and a fridge.",
    ),
    (
        15,
        "Cargo bike rental",
        "vehicle",
        {
            "make": "Urban Arrow",
            "model": "Family",
            "year": 2021,
            "seats": 3,
            "transmission": "automatic",
            "fuel": "electric",
        },
        "amsterdam",
        ["helmet", "raincover"],
        3500,
        3,
        4,
        "instant",
        "Carries two kids and the shopping.",
    ),
    (
        16,
        "Hybrid sedan airport pickup",
        "vehicle",
        {
            "make": "Toyota",
            "model": "Prius",
            "year": 2021,
            "seats": 5,
            "transmission": "automatic",
            "fuel": "hybrid",
        },
        "barcelona",
        ["gps", "bluetooth"],
        7500,
        5,
        2,
        "instant",
        "Meet and greet at the terminal.",
    ),
    (
        17,
        "Vintage scooter",
        "vehicle",
        {
            "make": "Vespa",
            "model": "Primavera",
            "year": 1974,
            "seats": 2,
            "transmission": "manual",
            "fuel": "petrol",
        },
        "lisbon",
        ["helmet", "lock"],
        4000,
        2,
        1,
        "request",
        "Restored and reliable.",
    ),
    (
        18,
        "Camera kit for professionals",
        "equipment",
        {"brand": "Canon", "condition": "like_new"},
        "berlin",
        ["tripod", "batteries"],
        6000,
        1,
        2,
        "instant",
        "Full frame body with three lenses.",
    ),
    (
        19,
        "Surfboard and wetsuit",
        "equipment",
        {"brand": "Channel Islands", "condition": "good"},
        "lisbon",
        ["wax", "leash"],
        2500,
        1,
        5,
        "instant",
        "Perfect for the beach breaks west of town.",
    ),
    (
        20,
        "Camping tent for four",
        "equipment",
        {"brand": "Quechua", "condition": "good"},
        "porto",
        ["stakes", "groundsheet"],
        1800,
        4,
        3,
        "instant",
        "Pitches in two seconds.",
    ),
    (
        21,
        "Mountain bike",
        "equipment",
        {"brand": "Trek", "condition": "fair"},
        "barcelona",
        ["helmet", "lock"],
        3000,
        1,
        2,
        "request",
        "Front suspension and a spare tube.",
    ),
    (
        22,
        "DJ studios kit and speakers",
        "equipment",
        {"brand": "Pioneer", "condition": "new"},
        "amsterdam",
        ["cables", "headphones"],
        8000,
        1,
        1,
        "request",
        "Plug and play for parties.",
    ),
    (
        23,
        "Kayak with paddles",
        "equipment",
        {"brand": "Decathlon", "condition": "good"},
        "porto",
        ["lifejacket", "drybag"],
        3200,
        2,
        3,
        "instant",
        "Launch from the river beach.",
    ),
    (
        24,
        "Projector for events",
        "equipment",
        {"brand": "Epson", "condition": "like_new"},
        "paris",
        ["screen", "cables"],
        4500,
        1,
        1,
        "instant",
        "Bright enough for daylight.",
    ),
    (
        25,
        "Meeting room with whiteboard",
        "space",
        {"area_m2": 30.0, "kind": "meeting_room"},
        "lisbon",
        ["wifi", "projector", "coffee"],
        2500,
        10,
        2,
        "instant",
        "Quiet floor near the metro.",
    ),
    (
        26,
        "Photo studio with daylight",
        "space",
        {"area_m2": 80.0, "kind": "studio"},
        "berlin",
        ["wifi", "lighting"],
        4000,
        6,
        1,
        "request",
        "North facing windows.",
    ),
    (
        27,
        "Canalside coworking desk",
        "space",
        {"area_m2": 4.0, "kind": "office"},
        "amsterdam",
        ["wifi", "coffee"],
        1200,
        1,
        8,
        "instant",
        "Standing desks and a phone booth.",
    ),
    (
        28,
        "Event hall for weddings",
        "space",
        {"area_m2": 400.0, "kind": "event_hall"},
        "porto",
        ["wifi", "parking", "sound"],
        20000,
        200,
        1,
        "request",
        "Chandeliers and a dance floor.",
    ),
    (
        29,
        "Recording studio",
        "space",
        {"area_m2": 45.0, "kind": "studio"},
        "paris",
        ["wifi", "instruments"],
        6000,
        5,
        1,
        "request",
        "Vocal booth and a grand piano.",
    ),
    (
        30,
        "Secure parking garage",
        "space",
        {"area_m2": 12.0, "kind": "parking"},
        "barcelona",
        ["cctv", "charger"],
        800,
        1,
        6,
        "instant",
        "Underground, open all night.",
    ),
    (
        31,
        "Rooftop terrace for parties",
        "space",
        {"area_m2": 120.0, "kind": "other"},
        "lisbon",
        ["wifi", "sound", "bar"],
        15000,
        60,
        1,
        "request",
        "Sunset over the river.",
    ),
    (
        32,
        "Tennis court on clay",
        "court",
        {"sport": "tennis", "surface": "clay", "indoor": False},
        "paris",
        ["lighting", "showers"],
        2000,
        4,
        2,
        "instant",
        "Rackets for hire at the desk.",
    ),
    (
        33,
        "Padel court indoors",
        "court",
        {"sport": "padel", "surface": "artificial_grass", "indoor": True},
        "barcelona",
        ["lighting", "showers"],
        2400,
        4,
        3,
        "instant",
        "Glass walls and fresh balls.",
    ),
    (
        34,
        "Floodlit football pitch",
        "court",
        {"sport": "football_5x5", "surface": "artificial_grass", "indoor": False},
        "lisbon",
        ["lighting", "showers"],
        6000,
        10,
        1,
        "request",
        "Bibs and balls included.",
    ),
    (
        35,
        "Basketball court downtown",
        "court",
        {"sport": "basketball", "surface": "wood", "indoor": True},
        "berlin",
        ["lighting", "scoreboard"],
        3000,
        10,
        1,
        "instant",
        "Full size with a scoreboard.",
    ),
    (
        36,
        "Tennis court on grass",
        "court",
        {"sport": "tennis", "surface": "grass", "indoor": False},
        "amsterdam",
        ["showers", "lighting"],
        3500,
        4,
        1,
        "request",
        "Whites preferred.",
    ),
    (
        37,
        "Wedding dress rental",
        "other",
        {"size": "M", "colour": "ivory"},
        "paris",
        ["alterations", "delivery"],
        12000,
        1,
        1,
        "request",
        "Silk and lace, dry cleaned.",
    ),
    (
        38,
        "Sailing boat day trip",
        "other",
        {"length_m": 9, "skipper": True},
        "lisbon",
        ["lifejacket", "cooler"],
        30000,
        8,
        1,
        "request",
        "Down the river to the ocean.",
    ),
    (
        39,
        "Piano for concerts",
        "other",
        {"maker": "Steinway", "tuned": True},
        "berlin",
        ["delivery", "tuning"],
        25000,
        1,
        1,
        "request",
        "Concert grand, moved by specialists.",
    ),
    (
        40,
        "Costume collection",
        "other",
        {"theme": "carnival", "pieces": 40},
        "porto",
        ["alterations", "delivery"],
        5000,
        1,
        10,
        "instant",
        "Masks, capes and feathers.",
    ),
]

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
