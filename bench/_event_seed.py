"""The log `projection_rebuild.py` measures: a seed of realistic events made by the real use
cases on an in-memory store, then replicated with every aggregate and actor id remapped
(calendar ids re-derived) into batches ready for `recorder.insert_events`."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from _common import verified_owner
from eventsourcing.persistence import StoredEvent

from application.bookings import Bookings
from application.context import Actor, command_context
from application.listings import Listings
from application.store import EventStore
from domain.calendar import ListingCalendar
from domain.errors import DomainError
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from tests.builders import listing_spec

FEES = {"service_fee_bp": 1200, "commission_bp": 300}
UUID_RE = re.compile(rb"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


def seed_events(target: int, bookings_per_listing: int) -> tuple[EventStore, list[UUID]]:
    """Runs the use cases on an in-memory store until it holds about `target` events."""
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    listings, bookings = Listings(store, **FEES), Bookings(store, **FEES)
    admin = Actor(uuid.uuid4(), "admin")
    at = datetime.now(UTC).replace(microsecond=0)
    owners = [verified_owner(store, at) for _ in range(20)]
    renters = [Actor(uuid.uuid4(), "user") for _ in range(200)]
    first = date.today() + timedelta(days=3)
    kinds: list[dict[str, Any]] = [
        {"category": "stay"},
        {"category": "vehicle", "booking_unit": "day"},
        {"category": "equipment", "booking_unit": "day"},
        {"category": "space", "booking_mode": "request"},
        {"category": "stay", "booking_mode": "request", "quantity": 2},
    ]
    ids: list[UUID] = []
    for n in itertools.count():
        if store.current_position() >= target:
            break
        owner = owners[n % len(owners)]
        spec = listing_spec(booking_window_days=730, **kinds[n % len(kinds)])
        with command_context(owner):
            listing_id, _ = listings.create(owner, spec, at)
            listings.submit(owner, listing_id, at)
        with command_context(admin):
            listings.approve(admin, listing_id, at)
        ids.append(listing_id)
        with command_context(owner):
            blocked = first + timedelta(days=600)
            end_block = (blocked + timedelta(days=5)).isoformat()
            listings.add_block(owner, listing_id, blocked.isoformat(), end_block, "maint", at)
            listings.set_price(owner, listing_id, first + timedelta(days=30), 15_000, at)
        request_mode = spec["booking_mode"] == "request"
        for k in range(bookings_per_listing):
            renter = renters[(n * 7 + k) % len(renters)]
            start = first + timedelta(days=2 * k)
            try:
                with command_context(renter):
                    booking_id, _ = bookings.place(
                        renter, listing_id, start=start.isoformat(),
                        end=(start + timedelta(days=2)).isoformat(),
                        quantity=1, guests=2, at=at,
                    )  # fmt: skip
                if request_mode:
                    with command_context(owner):
                        if k % 3:
                            bookings.approve(owner, booking_id, at)
                        else:
                            bookings.decline(owner, booking_id, "dates", at)
                elif k % 5 == 0:
                    with command_context(renter):
                        bookings.cancel(renter, booking_id, "changed plans", at)
                elif k % 7 == 0:
                    bookings.expire(booking_id, at + timedelta(minutes=16))
            except DomainError:
                continue
    return store, ids


def replicate(
    seed: EventStore, listing_ids: list[UUID], target: int
) -> tuple[list[list[StoredEvent]], Counter[str]]:
    """The seed's events, again and again with fresh ids, until `target` events: batches of
    StoredEvents ready for `insert_events`, and the count per topic."""
    notes = seed.recorder.select_notifications(start=1, limit=10**9)
    originators: set[UUID] = {UUID(str(n.originator_id)) for n in notes}
    calendars = {ListingCalendar.create_id(lid): lid for lid in listing_ids}
    actors: set[UUID] = set()
    for n in notes:  # actor ids appear inside states and metadata
        for m in UUID_RE.findall(n.state):
            with contextlib.suppress(ValueError):
                actors.add(UUID(m.decode()))
    known = (originators | actors) - set(calendars)
    batches: list[list[StoredEvent]] = []
    topics: Counter[str] = Counter()
    batch: list[StoredEvent] = []
    produced = 0
    for replica in itertools.count():
        if produced >= target:
            break
        if replica == 0:
            mapping: dict[UUID, UUID] = {u: u for u in known | set(calendars)}
        else:
            mapping = {u: uuid.uuid4() for u in known}
            for cal, lid in calendars.items():
                mapping[cal] = ListingCalendar.create_id(mapping[lid])
        as_bytes: dict[bytes, bytes] = {}
        for old, new in mapping.items():
            as_bytes[old.hex.encode()] = new.hex.encode()
            as_bytes[str(old).encode()] = str(new).encode()

        def sub(m: re.Match[bytes], table: dict[bytes, bytes] = as_bytes) -> bytes:
            return table.get(m.group(0), m.group(0))

        for n in notes:
            if produced >= target:
                break
            state = n.state if replica == 0 else UUID_RE.sub(sub, n.state)
            batch.append(
                StoredEvent(
                    originator_id=mapping.get(UUID(str(n.originator_id)), n.originator_id),
                    originator_version=n.originator_version,
                    topic=n.topic,
                    state=state,
                )
            )
            topics[n.topic.rsplit(".", 2)[-2] + "." + n.topic.rsplit(".", 1)[-1]] += 1
            produced += 1
            if len(batch) == 2000:
                batches.append(batch)
                batch = []
    if batch:
        batches.append(batch)
    return batches, topics


def log_container(db_url: str) -> Container:
    """A container on `db_url` that a replicated log is inserted into and views are built
    from: PostgreSQL events and views, no workers, cheap password hashing."""
    settings = Settings(
        environment="test",
        database_url=db_url,
        data_dir=Path(os.environ.get("TMPDIR", "/tmp")) / "rentbook-bench",
        postgres_pool_size=10,
        workers_in_process=False,
    )
    return build_container(settings, time_cost=1, memory_cost=64, parallelism=1)
