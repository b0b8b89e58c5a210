"""Test data builders: valid listing specs per category and a ready application."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from application.bookings import Bookings
from application.context import Actor
from application.identity import Identity
from application.listings import Listings
from application.ports import SessionStore
from application.store import EventStore
from domain.calendar import ListingCalendar
from infrastructure.passwords import Argon2Hasher
from infrastructure.ratelimit import InMemoryLoginFailures
from infrastructure.sessions import InMemorySessionStore

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

CATEGORY_DATA: dict[str, dict[str, Any]] = {
    "stay": {"property_type": "apartment", "bedrooms": 2, "beds": 3, "bathrooms": 1.5},
    "vehicle": {
        "make": "Renault",
        "model": "Zoe",
        "year": 2022,
        "seats": 5,
        "transmission": "automatic",
        "fuel": "electric",
    },
    "equipment": {"brand": "Makita", "condition": "good"},
    "space": {"area_m2": 42.5, "kind": "meeting_room"},
    "court": {"sport": "padel", "surface": "artificial_grass", "indoor": True},
    "other": {},
}


def listing_spec(**overrides: Any) -> dict[str, Any]:
    category = overrides.pop("category", "stay")
    unit = overrides.pop("booking_unit", "hour" if category == "court" else "night")
    spec: dict[str, Any] = {
        "title": f"A fine {category}",
        "description": "Light, quiet and close to everything.",
        "category": category,
        "category_data": CATEGORY_DATA[category],
        "location": {
            "address": "Rua Augusta 1",
            "city": "Lisbon",
            "country": "PT",
            "lat": 38.7101,
            "lng": -9.1366,
            "timezone": "Europe/Lisbon",
        },
        "booking_unit": unit,
        "pricing": {"base": {"amount": 10_000, "currency": "EUR"}},
        "quantity": 1,
        "capacity": 4,
        "amenities": ["wifi", "kitchen"],
        "booking_mode": "instant",
        "min_duration": 1,
        "cancellation_policy": "moderate",
    }
    spec.update(overrides)
    return spec


def listing_calendar(
    listing_id: uuid.UUID | None = None, *, unit: str = "night", units: int = 1, at: datetime = NOW
) -> ListingCalendar:
    """A new calendar of `units` by the `unit`, one slot a step, no buffer, no opening hours."""
    return ListingCalendar(
        listing_id=listing_id or uuid.uuid4(),
        unit=unit,
        units=units,
        step=1,
        buffer_slots=0,
        opening_hours={},
        at=at,
    )


def memory_store() -> EventStore:
    return EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@dataclass
class World:
    store: EventStore
    listings: Listings
    bookings: Bookings
    owner: Actor
    renter: Actor
    admin: Actor

    def active_listing(self, **overrides: Any) -> uuid.UUID:
        listing_id, _ = self.listings.create(self.owner, listing_spec(**overrides), NOW)
        self.listings.submit(self.owner, listing_id, NOW)
        self.listings.approve(self.admin, listing_id, NOW)
        return listing_id


def identity_of(store: EventStore, sessions: SessionStore | None = None) -> Identity:
    """The identity use cases on `store`, with cheap hashing and in-memory sessions."""
    hasher = Argon2Hasher(time_cost=1, memory_cost=64, parallelism=1)
    window = timedelta(minutes=15)
    failures = InMemoryLoginFailures(5, window, window)
    return Identity(store, hasher, sessions or InMemorySessionStore(), failures)


def verified_user(store: EventStore, name: str = "Olivia Owner") -> uuid.UUID:
    """A signed-up user whose email is verified (owners must be, to submit listings)."""
    identity = identity_of(store)
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    user_id, _ = identity.register(email, "correct horse battery", name, at=NOW)
    identity.mark_email_verified(user_id, at=NOW)
    return user_id


def make_world(store: EventStore | None = None) -> World:
    store = store or memory_store()
    fees = {"service_fee_bp": 1200, "commission_bp": 300}
    return World(
        store=store,
        listings=Listings(store, **fees),
        bookings=Bookings(store, **fees),
        owner=Actor(verified_user(store), "user"),
        renter=Actor(uuid.uuid4(), "user"),
        admin=Actor(uuid.uuid4(), "admin"),
    )


def place_night(
    bookings: Bookings, listing_id: uuid.UUID, night: date, renter: Actor | None = None
) -> uuid.UUID:
    """A one-night, one-unit booking of `night` by `renter` (else a renter of its own)."""
    booking_id, _ = bookings.place(
        renter or Actor(uuid.uuid4(), "user"),
        listing_id,
        start=night.isoformat(),
        end=(night + timedelta(days=1)).isoformat(),
        quantity=1,
        guests=1,
        at=NOW,
    )
    return booking_id
