#!/usr/bin/env python
"""Loading a hot listing calendar (10,000 bookings) against a new one, on PostgreSQL. Prints
one JSON object.

The hot calendar gets `--bookings` holds (one night each, beyond the booking window so the
placements measured below still find free nights), recorded through the domain in saves of
500 events, so the store takes its snapshots as in production. Then, `--samples` times each:
- `load_new` / `load_hot`: `EventStore.load` of a calendar with 1 event / with 10,001
  (from the latest snapshot plus its tail);
- `load_hot_full_replay`: the same hot calendar through a store without snapshots (what
  every load cost before calendars snapshotted);
- `place_new` / `place_hot`: `bookings.place` (load listing and calendar, rules, save) on
  each listing, a different night every time.
`ratios.hot_over_new_*` is the issue's figure: a hot listing should load about as fast as a
new one.

Run:  .venv/bin/python bench/snapshots.py --bookings 10000 --samples 30
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import latency_summary, machine, temporary_database, verified_owner

from application.context import Actor, command_context
from application.store import EventStore
from domain.calendar import ListingCalendar
from infrastructure.bootstrap import build_container
from infrastructure.eventstore import event_store_env
from infrastructure.settings import Settings
from tests.builders import listing_spec


class NoSnapshots(EventStore):
    name = EventStore.name  # the same events table
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {}
    is_snapshotting_enabled = False


def timed(samples: int, op: Callable[[int], Any]) -> dict[str, Any]:
    latencies = []
    for i in range(samples):
        t0 = time.perf_counter()
        op(i)
        latencies.append(time.perf_counter() - t0)
    return {"count": samples, **latency_summary(latencies)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bookings", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=30)
    args = ap.parse_args()
    out: dict[str, Any] = {"benchmark": "snapshots", "machine": machine(), "params": vars(args)}
    with tempfile.TemporaryDirectory() as tmp, temporary_database("rentbook_bench_snap") as url:
        settings = Settings(
            environment="test", database_url=url, data_dir=Path(tmp), workers_in_process=False
        )
        container = build_container(settings, time_cost=1, memory_cost=64, parallelism=1)
        plain = NoSnapshots(env=event_store_env(settings))
        try:
            out.update(measure(container, plain, args.bookings, args.samples))
        finally:
            plain.close()
            container.close()
    print(json.dumps(out, indent=2, default=str))


def measure(container: Any, plain: EventStore, bookings: int, samples: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    admin = Actor(uuid.uuid4(), "admin")
    owner = verified_owner(container.store, datetime.now(UTC))
    spec = listing_spec(booking_window_days=730, quantity=1, capacity=4)
    listings = []
    for _ in range(2):
        with command_context(owner):
            listing_id, _ = container.listings.create(owner, dict(spec), now)
            container.listings.submit(owner, listing_id, now)
        with command_context(admin):
            container.listings.approve(admin, listing_id, now)
        listings.append(listing_id)
    new, hot = listings
    hot_calendar = ListingCalendar.create_id(hot)
    new_calendar = ListingCalendar.create_id(new)

    t0 = time.perf_counter()
    far = (date.today() + timedelta(days=1000)).toordinal()
    calendar = container.store.load(hot_calendar, "calendar")
    for i in range(bookings):
        calendar.place_hold(uuid.uuid4(), [far + i], 1, now + timedelta(days=3650), now)
        if (i + 1) % 500 == 0 or i + 1 == bookings:
            with command_context(owner):
                container.store.record(calendar)
    fill_seconds = time.perf_counter() - t0
    assert container.store.snapshots is not None
    recorder = container.store.snapshots.recorder
    snapshots = recorder.select_events(hot_calendar, desc=True, limit=1)

    def load(store: EventStore, calendar_id: uuid.UUID) -> Callable[[int], Any]:
        return lambda _: store.load(calendar_id, "calendar")

    renter = Actor(uuid.uuid4(), "user")
    first = date.today() + timedelta(days=7)

    def place(listing_id: uuid.UUID) -> Callable[[int], Any]:
        def op(i: int) -> Any:
            start = first + timedelta(days=i)
            with command_context(renter):
                return container.bookings.place(
                    renter, listing_id, start=start.isoformat(),
                    end=(start + timedelta(days=1)).isoformat(), quantity=1, guests=1, at=now,
                )  # fmt: skip

        return op

    result: dict[str, Any] = {
        "hot_calendar": {
            "events": container.store.load(hot_calendar, "calendar").version,
            "fill_seconds": round(fill_seconds, 2),
            "latest_snapshot_version": snapshots[0].originator_version if snapshots else None,
            # as stored: JSON, a hot calendar's whole state
            "snapshot_state_bytes": len(snapshots[0].state) if snapshots else 0,
        },
        "load_new": timed(samples, load(container.store, new_calendar)),
        "load_hot": timed(samples, load(container.store, hot_calendar)),
        "load_hot_full_replay": timed(max(3, samples // 5), load(plain, hot_calendar)),
        "place_new": timed(samples, place(new)),
        "place_hot": timed(samples, place(hot)),
    }

    def ratio(a: str, b: str) -> float:
        return round(result[a]["p50_ms"] / max(result[b]["p50_ms"], 1e-9), 2)

    result["ratios"] = {
        "hot_over_new_load_p50": ratio("load_hot", "load_new"),
        "hot_over_new_place_p50": ratio("place_hot", "place_new"),
        "full_replay_over_snapshot_load_p50": ratio("load_hot_full_replay", "load_hot"),
    }
    result["targets"] = {"hot_place_within_2x_new": result["ratios"]["hot_over_new_place_p50"] <= 2}
    return result


if __name__ == "__main__":
    main()
