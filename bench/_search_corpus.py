"""Synthetic, realistic search documents for the search benchmarks (see search_backends.py).

Five categories, ~40 real cities, 3-7 of 24 amenities, log-normal prices in three currencies,
a year of blocked nights for nightly listings and 90 days of blocked hours for hourly ones.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

from application.search import SENTINEL_DAY

DAY0 = 20_270  # 2025-07-01
CITIES = [
    ("Lisbon", "Portugal", 38.7223, -9.1393, "EUR"),
    ("Porto", "Portugal", 41.1579, -8.6291, "EUR"),
    ("Madrid", "Spain", 40.4168, -3.7038, "EUR"),
    ("Barcelona", "Spain", 41.3874, 2.1686, "EUR"),
    ("Valencia", "Spain", 39.4699, -0.3763, "EUR"),
    ("Paris", "France", 48.8566, 2.3522, "EUR"),
    ("Lyon", "France", 45.7640, 4.8357, "EUR"),
    ("Marseille", "France", 43.2965, 5.3698, "EUR"),
    ("Berlin", "Germany", 52.5200, 13.4050, "EUR"),
    ("Munich", "Germany", 48.1351, 11.5820, "EUR"),
    ("Hamburg", "Germany", 53.5511, 9.9937, "EUR"),
    ("Amsterdam", "Netherlands", 52.3676, 4.9041, "EUR"),
    ("Rotterdam", "Netherlands", 51.9244, 4.4777, "EUR"),
    ("Brussels", "Belgium", 50.8503, 4.3517, "EUR"),
    ("Vienna", "Austria", 48.2082, 16.3738, "EUR"),
    ("Zürich", "Switzerland", 47.3769, 8.5417, "EUR"),
    ("Milan", "Italy", 45.4642, 9.1900, "EUR"),
    ("Rome", "Italy", 41.9028, 12.4964, "EUR"),
    ("Naples", "Italy", 40.8518, 14.2681, "EUR"),
    ("Athens", "Greece", 37.9838, 23.7275, "EUR"),
    ("Prague", "Czechia", 50.0755, 14.4378, "EUR"),
    ("Kraków", "Poland", 50.0647, 19.9450, "EUR"),
    ("Warsaw", "Poland", 52.2297, 21.0122, "EUR"),
    ("Budapest", "Hungary", 47.4979, 19.0402, "EUR"),
    ("Copenhagen", "Denmark", 55.6761, 12.5683, "EUR"),
    ("Stockholm", "Sweden", 59.3293, 18.0686, "EUR"),
    ("Oslo", "Norway", 59.9139, 10.7522, "EUR"),
    ("Helsinki", "Finland", 60.1699, 24.9384, "EUR"),
    ("Dublin", "Ireland", 53.3498, -6.2603, "EUR"),
    ("London", "United Kingdom", 51.5072, -0.1276, "GBP"),
    ("Manchester", "United Kingdom", 53.4808, -2.2426, "GBP"),
    ("Edinburgh", "United Kingdom", 55.9533, -3.1883, "GBP"),
    ("New York", "United States", 40.7128, -74.0060, "USD"),
    ("Boston", "United States", 42.3601, -71.0589, "USD"),
    ("Chicago", "United States", 41.8781, -87.6298, "USD"),
    ("San Francisco", "United States", 37.7749, -122.4194, "USD"),
    ("Los Angeles", "United States", 34.0522, -118.2437, "USD"),
    ("Seattle", "United States", 47.6062, -122.3321, "USD"),
    ("Austin", "United States", 30.2672, -97.7431, "USD"),
    ("Miami", "United States", 25.7617, -80.1918, "USD"),
]
AMENITIES = [
    "wifi", "kitchen", "washer", "dryer", "air_conditioning", "heating", "parking", "balcony",
    "garden", "pool", "elevator", "workspace", "tv", "dishwasher", "coffee_machine", "gps",
    "child_seat", "projector", "whiteboard", "showers", "lockers", "case", "spare_battery",
    "pet_friendly",
]  # fmt: skip
ADJECTIVES = [
    "sunny", "quiet", "cosy", "spacious", "modern", "bright", "charming", "stylish", "rustic",
    "elegant", "compact", "historic", "renovated", "central", "peaceful", "private", "luxury",
    "affordable", "family", "professional", "electric", "vintage", "lovely", "airy", "minimal",
    "design", "boutique", "scenic", "secluded", "panoramic",
]  # fmt: skip
NOUNS = {
    "stay": ["loft", "apartment", "studio", "house", "villa", "cabin", "flat", "penthouse",
             "cottage", "room", "suite", "townhouse", "bungalow", "chalet", "duplex"],
    "vehicle": ["car", "van", "scooter", "bike", "convertible", "camper", "hatchback", "suv",
                "motorbike", "minibus"],
    "equipment": ["drill", "camera", "projector", "tent", "kayak", "ladder", "speaker",
                  "telescope", "sewing machine", "surfboard", "lawnmower", "generator"],
    "space": ["meeting room", "studio", "workshop", "office", "gallery", "kitchen", "loft",
              "rooftop", "hall", "podcast booth"],
    "court": ["padel court", "tennis court", "squash court", "basketball court",
              "badminton court", "football pitch", "climbing wall"],
}  # fmt: skip
PLACES = [
    "near the river", "by the old town", "close to the station", "with a sea view",
    "next to the park", "in the city centre", "by the harbour", "near the university",
    "with mountain views", "in a quiet street", "above a bakery", "near the market",
]  # fmt: skip
FILLER = [
    word
    for line in (
        "bright rooms fast wifi walking distance tram metro bus shops restaurants cafes",
        "museum beach market bakery garden terrace balcony view light quiet street",
        "neighbourhood host friendly clean comfortable equipped perfect ideal couples",
        "families groups business travellers weekend getaway remote work fully furnished",
        "brand new recently serviced insured delivered pickup available evenings weekends",
        "booking flexible cancellation deposit required instructions provided keys lockbox",
        "self check in late arrival early departure parking nearby street free paid charger",
        "included helmet lock basket adjustable lightweight sturdy reliable powerful spare",
        "battery charger case manual lessons coach rackets balls lighting changing rooms",
        "showers lockers floodlit indoor outdoor surface artificial grass clay hard wooden",
        "floor sound system screen whiteboard coffee tea water snacks catering accessible",
        "elevator stairs ground floor",
    )
    for word in line.split()
]
CATEGORY_DATA: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "stay": lambda r: {
        "property_type": r.choice(["apartment", "house", "studio", "villa", "cabin"]),
        "bedrooms": r.randint(0, 5),
        "beds": r.randint(1, 8),
        "bathrooms": r.choice([1, 1.5, 2, 2.5, 3]),
    },
    "vehicle": lambda r: {
        "make": r.choice(["Renault", "Peugeot", "Toyota", "Tesla", "Fiat", "Volkswagen"]),
        "model": r.choice(["Zoe", "208", "Yaris", "Model 3", "500", "Golf", "Transporter"]),
        "year": r.randint(2012, 2025),
        "seats": r.choice([2, 4, 5, 7, 9]),
        "transmission": r.choice(["automatic", "manual"]),
        "fuel": r.choice(["electric", "petrol", "diesel", "hybrid"]),
    },
    "equipment": lambda r: {
        "brand": r.choice(["Makita", "Bosch", "Canon", "Sony", "DeWalt", "Coleman"]),
        "condition": r.choice(["new", "like_new", "good", "fair"]),
    },
    "space": lambda r: {
        "area_m2": r.randint(10, 400),
        "kind": r.choice(["meeting_room", "studio", "workshop", "event_hall", "office"]),
    },
    "court": lambda r: {
        "sport": r.choice(["padel", "tennis", "squash", "basketball", "badminton"]),
        "surface": r.choice(["artificial_grass", "clay", "hard", "wood"]),
        "indoor": r.random() < 0.5,
    },
}
UNIT = {"stay": "night", "vehicle": "day", "equipment": "day", "space": "hour", "court": "hour"}
BASE_PRICE = {"stay": 11_000, "vehicle": 6_000, "equipment": 2_000, "space": 4_000, "court": 2_500}


def make_documents(n: int, seed: int = 7) -> list[dict[str, Any]]:
    r = random.Random(seed)
    docs = []
    categories = list(NOUNS)
    for _ in range(n):
        category = r.choices(categories, weights=[45, 15, 15, 15, 10])[0]
        city, country, lat, lng, currency = r.choice(CITIES)
        unit = UNIT[category]
        noun = r.choice(NOUNS[category])
        title = f"{r.choice(ADJECTIVES).capitalize()} {noun} {r.choice(PLACES)}"
        description = " ".join(r.choices(FILLER, k=r.randint(12, 40))).capitalize() + "."
        nights: set[int] = {SENTINEL_DAY}
        hours: set[int] = {SENTINEL_DAY}
        if unit == "night":
            for _ in range(r.randint(0, 12)):
                start = DAY0 + r.randint(0, 364)
                nights.update(range(start, start + r.randint(1, 7)))
        if unit == "hour":
            for _ in range(r.randint(0, 30)):
                hours.add(DAY0 * 24 + r.randint(0, 90 * 24 - 1))
        docs.append(
            {
                "id": str(uuid.UUID(int=r.getrandbits(128), version=4)),
                "version": 1,
                "title": title,
                "description": description,
                "category": category,
                "category_data": CATEGORY_DATA[category](r),
                "city": city,
                "country": country,
                "_geo": {
                    "lat": round(lat + r.gauss(0, 0.04), 6),
                    "lng": round(lng + r.gauss(0, 0.06), 6),
                },
                "price_amount": max(100, int(BASE_PRICE[category] * r.lognormvariate(0, 0.5))),
                "currency": currency,
                "capacity": r.randint(1, 12),
                "units": 3 if category == "equipment" else r.choice([1, 1, 1, 2]),
                "amenities": r.sample(AMENITIES, r.randint(3, 7)),
                "booking_mode": "request" if r.random() < 0.25 else "instant",
                "booking_unit": unit,
                "rating": round(r.uniform(3.0, 5.0), 2) if r.random() < 0.8 else 0.0,
                "review_count": r.randint(0, 300),
                "created_at": 1_700_000_000 + r.randint(0, 60_000_000),
                "blocked_nights": sorted(nights),
                "blocked_hours": sorted(hours),
            }
        )
    return docs
