"""Demo data through the same use cases as real users: events, views and all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from application.bookings import Bookings
from application.context import Actor, command_context
from application.identity import Identity
from application.listings import Listings

DEMO_PASSWORD = "rentbook-demo-password"

# (city, country, lat, lng, tz, currency)
CITIES = [
    ("Lisbon", "PT", 38.7223, -9.1393, "Europe/Lisbon", "EUR"),
    ("Berlin", "DE", 52.5200, 13.4050, "Europe/Berlin", "EUR"),
    ("New York", "US", 40.7128, -74.0060, "America/New_York", "USD"),
    ("London", "GB", 51.5072, -0.1276, "Europe/London", "GBP"),
    ("Barcelona", "ES", 41.3874, 2.1686, "Europe/Madrid", "EUR"),
    ("Tokyo", "JP", 35.6762, 139.6503, "Asia/Tokyo", "JPY"),
]

# (category, unit, title, base amount in minor units, category_data, amenities)
TEMPLATES: list[tuple[str, str, str, int, dict[str, Any], list[str]]] = [
    (
        "stay",
        "night",
        "Sunny two-bedroom flat near the old town",
        12_500,
        {"property_type": "apartment", "bedrooms": 2, "beds": 3, "bathrooms": 1},
        ["wifi", "kitchen", "washer", "air_conditioning"],
    ),
    (
        "vehicle",
        "day",
        "Electric city car, 300 km range",
        5_900,
        {
            "make": "Renault",
            "model": "Zoe",
            "year": 2023,
            "seats": 5,
            "transmission": "automatic",
            "fuel": "electric",
        },
        ["child_seat", "gps"],
    ),
    (
        "equipment",
        "day",
        "Professional cordless drill set",
        1_800,
        {"brand": "Makita", "condition": "like_new"},
        ["case", "spare_battery"],
    ),
    (
        "space",
        "hour",
        "Quiet meeting room for eight",
        3_500,
        {"area_m2": 24, "kind": "meeting_room"},
        ["wifi", "projector", "whiteboard"],
    ),
    (
        "court",
        "hour",
        "Indoor padel court",
        2_400,
        {"sport": "padel", "surface": "artificial_grass", "indoor": True},
        ["showers", "lockers"],
    ),
]

HOURS = {d: [["08:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class DemoSummary:
    admin_email: str
    owners: int
    listings: int
    bookings: int


def _spec(i: int) -> dict[str, Any]:
    category, unit, title, amount, data, amenities = TEMPLATES[i % len(TEMPLATES)]
    city, country, lat, lng, tz, currency = CITIES[(i // len(TEMPLATES)) % len(CITIES)]

    def money(minor: int) -> dict[str, Any]:
        # Yen has no minor unit: 1 EUR-cent ~ 1.6 yen keeps demo prices realistic.
        return {"amount": minor * 16 // 10 if currency == "JPY" else minor, "currency": currency}

    spec: dict[str, Any] = {
        "title": f"{title} — {city}",
        "description": f"{title} in {city}. Managed by a responsive demo owner.",
        "category": category,
        "category_data": data,
        "location": {
            "address": f"{10 + i} Demo Street",
            "city": city,
            "country": country,
            "lat": lat + (i % 7) * 0.003,
            "lng": lng + (i % 5) * 0.003,
            "timezone": tz,
        },
        "booking_unit": unit,
        "pricing": {
            "base": money(amount),
            "weekly_discount_pct": 10 if unit != "hour" else 0,
            "monthly_discount_pct": 25 if unit == "night" else 0,
            "cleaning_fee": money(3_000) if category == "stay" else None,
            "weekday_multipliers": {"fri": 1.2, "sat": 1.25} if unit == "night" else {},
            "hourly_windows": [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "start": "18:00",
                    "end": "22:00",
                    "multiplier": 1.5,
                }
            ]
            if unit == "hour"
            else [],
        },
        "quantity": 3 if category == "equipment" else 1,
        "capacity": 8 if category in ("space", "court") else 4,
        "amenities": amenities,
        "booking_mode": "request" if i % 4 == 3 else "instant",
        "min_duration": 2 if unit == "night" else 1,
        "cancellation_policy": ("flexible", "moderate", "strict", "non_refundable")[i % 4],
        "opening_hours": HOURS if unit == "hour" else {},
        "buffer_minutes": 15 if category == "court" else 0,
        "deposit": money(20_000) if category == "vehicle" else None,
    }
    return spec


def seed_demo(
    identity: Identity, listings: Listings, bookings: Bookings, *, count: int, at: datetime
) -> DemoSummary:
    """Creates an admin, a few owners and renters, `count` active listings and bookings."""
    admin_email = "admin@rentbook.example"
    admin_id, _, _ = identity.create_admin(admin_email, DEMO_PASSWORD, "Demo Admin", at=at)
    admin = Actor(admin_id, "admin")
    owners = [
        identity.register(f"owner{n}@rentbook.example", DEMO_PASSWORD, f"Owner {n}", at=at)[0]
        for n in range(max(1, count // 10))
    ]
    renter_id = identity.register("renter@rentbook.example", DEMO_PASSWORD, "Demo Renter", at=at)[0]
    renter = Actor(renter_id, "user")
    made = 0
    for i in range(count):
        owner = Actor(owners[i % len(owners)], "user")
        with command_context(owner):
            listing_id, _ = listings.create(owner, _spec(i), at)
            listings.submit(owner, listing_id, at)
        with command_context(admin):
            listings.approve(admin, listing_id, at)
        if i % 3 == 0 and TEMPLATES[i % len(TEMPLATES)][1] != "hour":
            start = (at + timedelta(days=14 + i % 20)).date()
            with command_context(renter, request_id=str(uuid.uuid4())):
                bookings.place(
                    renter,
                    listing_id,
                    start=start.isoformat(),
                    end=(start + timedelta(days=3)).isoformat(),
                    quantity=1,
                    guests=1,
                    at=at,
                )
            made += 1
    return DemoSummary(admin_email, len(owners), count, made)
