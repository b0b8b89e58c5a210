"""`projection_rebuild.py`'s read-your-writes lag: place a booking through the use case, then
time `runner.wait_for(position, None, 5)`, in process and through LISTEN/NOTIFY."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from _common import latency_summary, verified_owner

from application.context import Actor, command_context
from infrastructure.bootstrap import Container
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import listing_spec


def measure_lag(
    container: Container,
    runner: ProjectionRunner,
    listings: list[UUID],
    *,
    nights: itertools.count[int],
    samples: int,
    writers: int,
    pause: float,
) -> dict[str, Any]:
    """Places a booking, then times `runner.wait_for(position, None, 5)`; `writers`
    background threads keep placing bookings meanwhile. `nights` hands out (listing, night)
    slots across calls, so no placement collides."""
    lock = threading.Lock()
    first = date.today() + timedelta(days=3)

    def place() -> int:
        with lock:
            k = next(nights)
        listing_id = listings[k % len(listings)]
        start = first + timedelta(days=k // len(listings))
        renter = Actor(uuid.uuid4(), "user")
        with command_context(renter):
            _, position = container.bookings.place(
                renter, listing_id, start=start.isoformat(),
                end=(start + timedelta(days=1)).isoformat(),
                quantity=1, guests=1, at=datetime.now(UTC),
            )  # fmt: skip
        return position

    stop = threading.Event()
    background = Counter[str]()

    def writer() -> None:
        while not stop.is_set():
            try:
                place()
                background["placed"] += 1
            except Exception as exc:
                background[type(exc).__name__] += 1

    threads = [threading.Thread(target=writer, daemon=True) for _ in range(writers)]
    for t in threads:
        t.start()
    lags: list[float] = []
    timeouts = 0
    t_start = time.perf_counter()
    try:
        for _ in range(samples):
            position = place()
            t0 = time.perf_counter()
            if runner.wait_for(position, None, 5):
                lags.append(time.perf_counter() - t0)
            else:
                timeouts += 1
            time.sleep(pause)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    seconds = time.perf_counter() - t_start
    return {
        "samples": len(lags),
        "timeouts": timeouts,
        "background_writers": writers,
        "background_placements_per_s": round(background["placed"] / seconds, 1),
        "background_errors": {k: v for k, v in background.items() if k != "placed"},
        **latency_summary(lags),
    }


def lag_benchmarks(
    container: Container, settings: Settings, *, samples: int, writers: int
) -> dict[str, Any]:
    now = datetime.now(UTC)
    admin, owner = Actor(uuid.uuid4(), "admin"), verified_owner(container.store, now)
    listings = []
    for _ in range(64):
        listing_id, _ = container.listings.create(owner, listing_spec(booking_window_days=730), now)
        container.listings.submit(owner, listing_id, now)
        container.listings.approve(admin, listing_id, now)
        listings.append(listing_id)
    out: dict[str, Any] = {}
    nights = itertools.count()
    runner = container.runner
    runner.start()
    try:
        runner.wait_for(container.store.current_position(), None, 30)
        out["in_process_idle"] = measure_lag(
            container, runner, listings, nights=nights, samples=samples, writers=0, pause=0.01
        )
        out["in_process_under_load"] = measure_lag(
            container, runner, listings, nights=nights, samples=samples, writers=writers, pause=0.01
        )
    finally:
        runner.stop()
    # A runner with its own EventStore: nothing in this process wakes it but LISTEN/NOTIFY.
    other_store = build_event_store(settings)
    follower = ProjectionRunner(
        other_store, container.views, all_projections(), batch_size=settings.projection_batch_size
    )
    follower.start()
    try:
        follower.wait_for(container.store.current_position(), None, 30)
        out["listen_notify_idle"] = measure_lag(
            container, follower, listings, nights=nights, samples=samples, writers=0, pause=0.01
        )
        out["listen_notify_under_load"] = measure_lag(
            container,
            follower,
            listings,
            nights=nights,
            samples=samples,
            writers=writers,
            pause=0.01,
        )
    finally:
        follower.stop()
        other_store.close()
    return out
