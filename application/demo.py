"""Demo data through the same use cases as real users: events, views and the index all real.

Listings are created, submitted and approved by `Listings`' own commands; to make 100,000 of
them quickly, those commands run against `_Batch`, which keeps what they record and saves a
whole batch in one `store.record` per actor (owner: create + submit; admin: approve), so
each event carries the context of the actor who caused it. A handful of owners share the
listings, so argon2 runs a few times, not once per listing. Bookings go through
`Bookings.place` one by one, as a renter would make them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from application.bookings import Bookings
from application.context import Actor, command_context
from application.demo_photos import Draw, OwnerPhotos, listing_photos, upload_demo_photos
from application.demo_places import DemoCity, demo_cities, local_amount
from application.identity import Identity
from application.listings import Listings
from application.media import MediaLibrary
from application.places import Places
from application.store import EventStore
from domain.errors import DomainError

DEMO_PASSWORD = "rentbook-demo-password"
MAX_OWNERS = 8
BATCH = 250  # listings per store.record

# Used without a `Places` dataset: (city, country, lat, lng, tz, currency)
CITIES: list[DemoCity] = [
    ("Lisbon", "PT", 38.7223, -9.1393, "Europe/Lisbon", "EUR"),
    ("Berlin", "DE", 52.5200, 13.4050, "Europe/Berlin", "EUR"),
    ("New York", "US", 40.7128, -74.0060, "America/New_York", "USD"),
    ("London", "GB", 51.5072, -0.1276, "Europe/London", "GBP"),
    ("Barcelona", "ES", 41.3874, 2.1686, "Europe/Madrid", "EUR"),
    ("Tokyo", "JP", 35.6762, 139.6503, "Asia/Tokyo", "JPY"),
]


@dataclass(frozen=True)
class Template:
    category: str
    unit: str
    titles: tuple[str, ...]
    eur_cents: int  # base price of one unit, in euro cents; shown in local currency
    category_data: dict[str, Any]
    amenities: tuple[str, ...]  # each listing takes a rotating subset


TEMPLATES: tuple[Template, ...] = (
    Template(
        "stay",
        "night",
        (
            "Sunny two-bedroom flat near the old town",
            "Quiet studio with a balcony",
            "Family house with a garden",
            "Loft by the river with city views",
        ),
        12_500,
        {"property_type": "apartment", "bedrooms": 2, "beds": 3, "bathrooms": 1},
        ("wifi", "kitchen", "washer", "air_conditioning", "balcony", "parking"),
    ),
    Template(
        "vehicle",
        "day",
        ("Electric city car, 300 km range", "Camper van for the coast", "Cargo bike"),
        5_900,
        {
            "make": "Renault",
            "model": "Zoe",
            "year": 2023,
            "seats": 5,
            "transmission": "automatic",
            "fuel": "electric",
        },
        ("child_seat", "gps", "roof_rack", "bike_rack"),
    ),
    Template(
        "equipment",
        "day",
        ("Professional cordless drill set", "Pressure washer", "Mirrorless camera kit"),
        1_800,
        {"brand": "Makita", "condition": "like_new"},
        ("case", "spare_battery", "charger", "delivery"),
    ),
    Template(
        "space",
        "hour",
        ("Quiet meeting room for eight", "Photo studio with daylight", "Rehearsal room"),
        3_500,
        {"area_m2": 24, "kind": "meeting_room"},
        ("wifi", "projector", "whiteboard", "coffee"),
    ),
    Template(
        "court",
        "hour",
        ("Indoor padel court", "Clay tennis court", "Five-a-side football pitch"),
        2_400,
        {"sport": "padel", "surface": "artificial_grass", "indoor": True},
        ("showers", "lockers", "racket_rental", "lights"),
    ),
    Template(
        "other",
        "day",
        ("Camping gear for four", "Party tent with benches"),
        2_900,
        {},
        ("delivery", "setup_help"),
    ),
)

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = {d: [["08:00", "22:00"]] for d in WEEK}
PRICE_STEPS = (80, 90, 100, 110, 125, 140, 160)  # percent of the template's price


@dataclass
class DemoSummary:
    admin_email: str
    owners: int
    listings: int
    bookings: int


def _spec(i: int, city: DemoCity) -> dict[str, Any]:
    t = TEMPLATES[i % len(TEMPLATES)]
    name, country, lat, lng, tz, currency = city
    variant = i // len(TEMPLATES)
    title = t.titles[variant % len(t.titles)]
    step = PRICE_STEPS[(i * 7 + variant) % len(PRICE_STEPS)]

    def money(eur_cents: int) -> dict[str, Any]:
        return {"amount": local_amount(eur_cents, currency), "currency": currency}

    n = len(t.amenities)
    amenities = [t.amenities[(variant + k) % n] for k in range(2 + variant % (n - 1))]
    hourly = t.unit == "hour"
    return {
        "title": f"{title} in {name}",
        "description": f"{title} in {name}. Managed by a responsive demo owner.",
        "category": t.category,
        "category_data": t.category_data,
        "location": {
            "address": f"{10 + i % 190} Demo Street",
            "city": name,
            "country": country,
            # Spread over a few km around the centre, the same each run.
            "lat": round(lat + ((i * 37) % 41 - 20) * 0.002, 6),
            "lng": round(lng + ((i * 53) % 41 - 20) * 0.002, 6),
            "timezone": tz,
        },
        "booking_unit": t.unit,
        "pricing": {
            "base": money(t.eur_cents * step // 100),
            "weekly_discount_pct": 0 if hourly else 10,
            "monthly_discount_pct": 25 if t.unit == "night" else 0,
            "cleaning_fee": money(3_000) if t.category == "stay" else None,
            "weekday_multipliers": {"fri": 1.2, "sat": 1.25} if t.unit == "night" else {},
            "hourly_windows": (
                [{"days": list(WEEK[:5]), "start": "18:00", "end": "22:00", "multiplier": 1.5}]
                if hourly
                else []
            ),
        },
        "quantity": 3 if t.category == "equipment" else 1,
        "capacity": {"stay": 2 + variant % 5, "space": 8, "court": 4 + 6 * (variant % 2)}.get(
            t.category, 4
        ),
        "amenities": amenities,
        "booking_mode": "request" if i % 4 == 3 else "instant",
        "min_duration": 2 if t.unit == "night" else 1,
        "cancellation_policy": ("flexible", "moderate", "strict", "non_refundable")[i % 4],
        "opening_hours": HOURS if hourly else {},
        "buffer_minutes": 15 if t.category == "court" else 0,
        "deposit": money(20_000) if t.category == "vehicle" else None,
    }


class _Batch:
    """An `EventStore` stand-in for the use cases: keeps what they record, hands it back
    when they load it, and saves it all in one `record` on `flush`."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.pending: dict[UUID, Aggregate] = {}
        self.known: dict[UUID, Aggregate] = {}

    def record(self, *aggregates: Aggregate | None) -> int:
        for agg in aggregates:
            if agg is not None:
                self.pending.setdefault(agg.id, agg)
                self.known[agg.id] = agg
        return 0

    def load(
        self, aggregate_id: UUID, kind: str, *, version: int | None = None, read_only: bool = False
    ) -> Any:
        if aggregate_id in self.known:  # the instance itself, read only or not
            return self.known[aggregate_id]
        return self.store.load(aggregate_id, kind, version=version)

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.known or self.store.exists(aggregate_id)

    def flush(self) -> int:
        position = self.store.record(*self.pending.values()) if self.pending else 0
        self.pending.clear()
        return position


def seed_demo(
    identity: Identity,
    listings: Listings,
    bookings: Bookings,
    *,
    count: int,
    at: datetime,
    places: Places | None = None,
    max_bookings: int | None = None,
    media: MediaLibrary | None = None,
    draw: Draw | None = None,
) -> DemoSummary:
    """Creates an admin, a few owners and a renter, `count` active listings spread over
    real cities (from `places`, else a built-in six) with prices in local currency, and
    bookings on about a third of them (at most `max_bookings`, default 300 + count/50).
    With `media` and `draw`, listings get photos uploaded by their owners."""
    admin_email = "admin@rentbook.example"
    admin_id, _, _ = identity.create_admin(admin_email, DEMO_PASSWORD, "Demo Admin", at=at)
    admin = Actor(admin_id, "admin")
    owners = [
        Actor(
            identity.register(f"owner{n}@rentbook.example", DEMO_PASSWORD, f"Owner {n}", at=at)[0],
            "user",
        )
        for n in range(min(MAX_OWNERS, max(1, count // 10)))
    ]
    renter_id = identity.register("renter@rentbook.example", DEMO_PASSWORD, "Demo Renter", at=at)[0]
    for user_id in (*(owner.id for owner in owners), renter_id):
        identity.mark_email_verified(user_id, at=at)  # demo accounts can publish at once
    renter = Actor(renter_id, "user")
    cities = demo_cities(places, max(1, min(count, 2_000))) if places is not None else CITIES
    cities = cities or CITIES
    photos: OwnerPhotos = {}
    if media is not None and draw is not None and count:
        categories = [t.category for t in TEMPLATES]
        photos = upload_demo_photos(media, draw, owners, categories, at)
    created: list[UUID] = []
    for first in range(0, count, BATCH):
        indexes = range(first, min(count, first + BATCH))
        created += _publish(listings, owners, admin, indexes, cities, at, photos)
    limit = max_bookings if max_bookings is not None else 300 + count // 50
    made = _book(bookings, renter, created, cities, at, limit)
    return DemoSummary(admin_email, len(owners), count, made)


def _publish(
    listings: Listings,
    owners: list[Actor],
    admin: Actor,
    indexes: range,
    cities: Sequence[DemoCity],
    at: datetime,
    photos: OwnerPhotos,
) -> list[UUID]:
    """One batch: each owner creates and submits theirs, then the admin approves them all."""
    batch = _Batch(listings.store)
    batched = Listings(
        cast(EventStore, batch),
        service_fee_bp=listings.service_fee_bp,
        commission_bp=listings.commission_bp,
        media=listings.media,  # the photos were recorded in the real store
    )
    made: list[UUID] = []
    for n, owner in enumerate(owners):
        mine = [i for i in indexes if i % len(owners) == n]
        if not mine:
            continue
        with command_context(owner):
            for i in mine:
                spec = _spec(i, cities[i % len(cities)])
                category, variant = spec["category"], i // len(TEMPLATES)
                if shots := listing_photos(photos, owner, category, variant):
                    spec["photos"] = shots
                listing_id, _ = batched.create(owner, spec, at)
                batched.submit(owner, listing_id, at)
                made.append(listing_id)
            batch.flush()
    with command_context(admin):
        for listing_id in made:
            batched.approve(admin, listing_id, at)
        batch.flush()
    return made


def _book(
    bookings: Bookings,
    renter: Actor,
    listing_ids: list[UUID],
    cities: Sequence[DemoCity],
    at: datetime,
    limit: int,
) -> int:
    """A few nights, days or hours on every third listing, from two weeks out."""
    made = 0
    for i, listing_id in enumerate(listing_ids):
        if made >= limit:
            break
        if i % 3:
            continue
        start, end = _period(i, cities[i % len(cities)], at)
        with command_context(renter, request_id=str(uuid.uuid4())):
            try:
                bookings.place(
                    renter,
                    listing_id,
                    start=start,
                    end=end,
                    quantity=1,
                    guests=1,
                    at=at,
                )
            except DomainError:  # a rule of this listing refused it: demo data, carry on
                continue
        made += 1
    return made


def _period(i: int, city: DemoCity, at: datetime) -> tuple[str, str]:
    day = (at + timedelta(days=14 + i % 20)).date()
    if TEMPLATES[i % len(TEMPLATES)].unit != "hour":
        return day.isoformat(), (day + timedelta(days=3)).isoformat()
    begin = datetime.combine(day, time(10), tzinfo=ZoneInfo(city[4]))
    return begin.isoformat(), (begin + timedelta(hours=2)).isoformat()
