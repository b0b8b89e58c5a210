"""Memory per cached listing + calendar: what the aggregate cache's bounds cost (issue #9).

The cache keeps each listing and calendar pickled (`Entry.state`) and a bounded number of
them decoded for sharing (`shared` slots). This makes `--listings` active listings through
the use cases (on SQLite: the cached states are the same on PostgreSQL), places
`--bookings` one-night bookings on each, loads every listing and calendar through the cache
and reports, per listing (its listing + its calendar): the pickled bytes, the decoded
instances' bytes (tracemalloc, allocations made while decoding and kept) and the CPU to
decode one.
Prints one JSON object.

Run:  PYTHONPATH=$PWD .venv/bin/python bench/aggregate_cache_memory.py --listings 200 --bookings 30
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _booking_setup import create_listings
from _common import machine

from application.context import Actor, command_context
from domain.calendar import ListingCalendar
from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings

CHEAP_ARGON2: dict[str, Any] = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listings", type=int, default=200)
    ap.add_argument("--bookings", type=int, default=30, help="one-night bookings per listing")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rentbook-bk2-") as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp), workers_in_process=False)
        container = build_container(settings, **CHEAP_ARGON2)
        try:
            out = measure(container, args.listings, args.bookings)
        finally:
            container.close()
    out = {"benchmark": "aggregate_cache_memory", "machine": machine(), "params": vars(args), **out}
    print(json.dumps(out, indent=2))


def measure(container: Any, listings: int, bookings: int) -> dict[str, Any]:
    ids = create_listings(container, listings, threads=4)
    first = date.today() + timedelta(days=10)
    at = datetime.now(UTC)
    renter = Actor(uuid.uuid4(), "user")
    with command_context(renter):
        for night in range(bookings):
            start = first + timedelta(days=night)
            for listing_id in ids:
                container.bookings.place(
                    renter,
                    listing_id,
                    start=start.isoformat(),
                    end=(start + timedelta(days=1)).isoformat(),
                    quantity=1,
                    guests=1,
                    at=at,
                )
    store = container.store
    pickled = {"listing": 0, "calendar": 0}
    states: list[tuple[str, bytes]] = []
    for listing_id in ids:
        calendar_id = ListingCalendar.create_id(listing_id)
        listing, calendar = store.load_all((listing_id, "listing"), (calendar_id, "calendar"))
        for kind, aggregate in (("listing", listing), ("calendar", calendar)):
            state = pickle.dumps(aggregate, -1)
            pickled[kind] += len(state)
            states.append((kind, state))
    decoded = {"listing": 0, "calendar": 0}
    kept: list[Any] = []
    for kind, state in states:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept.append(pickle.loads(state))
        decoded[kind] += tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    # CPU to decode one (what a placement pays when its listing is not in a shared slot)
    decode_us: dict[str, float] = {}
    for kind in ("listing", "calendar"):
        mine = [state for k, state in states if k == kind]
        best = float("inf")
        for _ in range(5):
            t0 = time.process_time()
            for state in mine:
                pickle.loads(state)
            best = min(best, (time.process_time() - t0) / len(mine) * 1e6)
        decode_us[kind] = round(best, 1)
    per = {k: round(v / listings) for k, v in pickled.items()}
    per_decoded = {k: round(v / listings) for k, v in decoded.items()}
    return {
        "pickled_bytes_per_listing": per,
        "decoded_bytes_per_listing": per_decoded,
        "pickled_bytes_per_listing_and_calendar": sum(per.values()),
        "decoded_bytes_per_listing_and_calendar": sum(per_decoded.values()),
        "decoded_instances": len(kept),
        "decode_cpu_us_min_of_5": decode_us,
    }


if __name__ == "__main__":
    main()
