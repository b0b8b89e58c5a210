"""Setup shared by the parts of `booking_write.py`: active listings made through the use
cases, collision-free (listing, night) pairs, and counting the store's retried conflicts."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from _common import verified_owner
from eventsourcing.persistence import IntegrityError

from application.context import Actor, command_context
from infrastructure.bootstrap import Container
from tests.builders import listing_spec


def create_listings(container: Container, count: int, threads: int) -> list[UUID]:
    """Active listings (create, submit, approve), one night at a time, instant book."""
    now = datetime.now(UTC)
    admin = Actor(uuid.uuid4(), "admin")
    owners = [verified_owner(container.store, now) for _ in range(max(1, count // 50))]
    spec = listing_spec(booking_window_days=730, quantity=1, capacity=4)

    def one(i: int) -> UUID:
        owner = owners[i % len(owners)]
        with command_context(owner):
            listing_id, _ = container.listings.create(owner, dict(spec), now)
            container.listings.submit(owner, listing_id, now)
        with command_context(admin):
            container.listings.approve(admin, listing_id, now)
        return listing_id

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


class Nights:
    """Hands out (listing, night) pairs that never collide: the k-th booking goes to listing
    k % L on night k // L after the start date, so every placement should succeed."""

    def __init__(self, listings: list[UUID], first: date) -> None:
        self.listings = listings
        self.first = first
        self._counter = itertools.count()

    def next(self) -> tuple[UUID, str, str]:
        k = next(self._counter)
        listing = self.listings[k % len(self.listings)]
        start = self.first + timedelta(days=k // len(self.listings))
        return listing, start.isoformat(), (start + timedelta(days=1)).isoformat()


def count_conflicts(container: Container) -> Counter[str]:
    """Counts optimistic-concurrency losses (retried inside the use case) in this process."""
    counts: Counter[str] = Counter()
    store = container.store
    original = type(store).record

    def record(*aggregates: Any, **kwargs: Any) -> int:
        try:
            return original(store, *aggregates, **kwargs)
        except IntegrityError:
            counts["n"] += 1
            raise

    store.record = record  # type: ignore[method-assign]
    return counts
