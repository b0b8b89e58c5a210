"""A large demo search corpus in minutes: the first `block` listings seeded through the use
cases, the rest replicated from them in bulk with fresh ids and the specs of their own index.

Seeding 10k demo listings took 84 s of wall for 28 s of CPU on a quiet machine (py-spy, see
bench/README.md): `seed_demo` commits per owner batch and per booking, each a SQLite fsync,
and loads each owner three times per listing; the views catch-up and the index build are
the rest. Here the seed stops at `block` (12,000) listings, with the bookings a `size` seed
makes (all on its first 6,900 listings: `300 + size // 50` on every third one), then every
later listing `i` is block listing `i % block` again: its four events (Listing.Created,
Submitted, Approved, ListingCalendar.Opened) copied with a fresh listing id, the calendar id
re-derived, and the Created spec (title, city, place, price, amenities, capacity, modes)
replaced by `_spec(i, ...)` as `seed_demo(count=size)` makes it. A block that is a multiple
of 24 keeps each copy's owner (i % 8) and template (i % 6, which the calendar follows) those
of its own index, so the corpus is the `size` seed's listing for listing, bar ids and
timestamps. The events are
inserted 5,000 per transaction (`recorder.insert_events`, the hash chain included), then
the views catch up and the index is built as `search.seed` does. The copies' welcome mails
are history: the email horizon moves to the end of the log (the outbox's own mechanism for
a deployment that adds mail to a store with history), so `--mail-backlog drain` sends none.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from sqlalchemy import text

from application.demo import BATCH, MAX_OWNERS, _spec, seed_demo
from application.demo_places import demo_cities
from domain.calendar import ListingCalendar
from domain.listing import validate_spec
from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings

BLOCK = 12_000  # a multiple of 24 (8 owners, 6 templates) holding the 100k seed's bookings
CHEAP_ARGON2: dict[str, Any] = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}
LISTING_TOPICS = (
    "domain.listing:Listing.Created",
    "domain.listing:Listing.Submitted",
    "domain.listing:Listing.Approved",
)
CALENDAR_OPENED = "domain.calendar:ListingCalendar.Opened"
INSERT_BATCH = 5_000


def creation_order(block: int, owners: int) -> list[int]:
    """The listing indexes in the order `seed_demo` creates them: per batch, per owner."""
    return [
        i
        for first in range(0, block, BATCH)
        for n in range(owners)
        for i in range(first, min(block, first + BATCH))
        if i % owners == n
    ]


def seed_replicated(
    settings: Settings, size: int, block: int = BLOCK
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`search.seed`'s result for `size` listings, built as the module says."""
    if block % 24 or min(MAX_OWNERS, block // 10) != min(MAX_OWNERS, size // 10):
        raise ValueError(f"a block of {block} does not keep the owners and templates of {size}")
    container = build_container(settings, **CHEAP_ARGON2)
    try:
        container.places.load()
        at = container.clock.now()
        t0 = time.perf_counter()
        made = seed_demo(
            container.identity, container.listings, container.bookings,
            count=min(block, size), at=at, places=container.places,
            max_bookings=300 + size // 50,
        )  # fmt: skip
        seeded = time.perf_counter() - t0
        t0 = time.perf_counter()
        cities = demo_cities(container.places, max(1, min(size, 2_000)))
        owners = min(MAX_OWNERS, max(1, block // 10))
        copies = 0
        for batch in replica_batches(container.store, cities, owners, block, size):
            container.store.recorder.insert_events(batch)
            copies += sum(e.topic == LISTING_TOPICS[0] for e in batch)
        replicated = time.perf_counter() - t0
        events = container.store.current_position()
        if container.notifications is not None:  # the copies' mails are history, as the seed's
            with container.views.begin() as conn:
                conn.execute(text("UPDATE email_horizon SET position = :p"), {"p": events})
        t0 = time.perf_counter()
        container.runner.catch_up()
        views = time.perf_counter() - t0
        assert container.search_syncer is not None and container.search is not None
        container.search.ensure_settings()
        t0 = time.perf_counter()
        docs = container.search_syncer.rebuild(container.clock.now().astimezone(UTC).date())
        build = time.perf_counter() - t0
    finally:
        container.close()
    return (
        {
            "listings": made.listings + copies,
            "bookings": made.bookings,
            "events": events,
            "seeded_listings": made.listings,
            "seconds": round(seeded, 2),
            "replicated_listings": copies,
            "replicate_seconds": round(replicated, 2),
            "views_catch_up_s": round(views, 2),
            "views_events_per_s": round(events / views, 1),
        },
        {"documents": docs, "seconds": round(build, 2), "documents_per_s": round(docs / build, 1)},
    )


def replica_batches(
    store: Any, cities: list[Any], owners: int, block: int, size: int
) -> Iterator[list[StoredEvent]]:
    """The listing and calendar events of listings `block`..`size - 1`, in batches."""
    notes = store.recorder.select_notifications(start=1, limit=10**9)
    created = [n for n in notes if n.topic == LISTING_TOPICS[0]]
    order = creation_order(block, owners)
    if len(created) != len(order):
        raise RuntimeError(f"{len(created)} listings seeded, {len(order)} expected")
    index: dict[UUID, int] = {}
    for n, i in zip(created, order, strict=True):
        # the order is as assumed, and a spec stored is the plain JSON of `validate_spec`
        if json.loads(n.state)["spec"] != json.loads(_spec_json(i, cities)):
            raise RuntimeError(f"listing {n.originator_id} is not index {i}")
        index[UUID(str(n.originator_id))] = i
    calendars = {ListingCalendar.create_id(lid): lid for lid in index}
    mine = [
        n
        for n in notes
        if (n.topic in LISTING_TOPICS and UUID(str(n.originator_id)) in index)
        or (n.topic == CALENDAR_OPENED and UUID(str(n.originator_id)) in calendars)
    ]
    batch: list[StoredEvent] = []
    for first in range(block, size, block):
        fresh = {lid: uuid.uuid4() for lid, i in index.items() if first + i < size}
        for n in mine:
            stream = UUID(str(n.originator_id))
            listing = calendars.get(stream, stream)
            if listing not in fresh:
                continue
            new = fresh[listing]
            state = n.state
            if n.topic == LISTING_TOPICS[0]:
                i = first + index[listing]
                doc = json.loads(state)
                doc["spec"] = json.loads(_spec_json(i, cities))
                state = json.dumps(doc, separators=(",", ":")).encode()
            elif n.topic == CALENDAR_OPENED:
                state = state.replace(listing.hex.encode(), new.hex.encode())
                new = ListingCalendar.create_id(new)
            batch.append(StoredEvent(new, n.originator_version, n.topic, state))
            if len(batch) == INSERT_BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _spec_json(i: int, cities: list[Any]) -> str:
    return json.dumps(validate_spec(_spec(i, cities[i % len(cities)])))
