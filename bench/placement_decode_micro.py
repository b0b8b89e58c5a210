"""CPU per placement when the listings cycle through the aggregate cache (issue #9, task BK2).

In-process, on the memory store with the aggregate cache on: `--listings` active listings,
placements round-robin over them (as http_wrk's bookings: request g books listing g % L),
so what a placement pays to decode its cached listing and calendar shows. Single thread;
CPU from `process_time`, the median of `--repeats` rounds of `--placements`. Runs on any
code: put a worktree first on PYTHONPATH to measure it. Prints one JSON object.

Run:  PYTHONPATH=$PWD .venv/bin/python bench/placement_decode_micro.py --listings 500
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine

from application.context import Actor, command_context
from application.store import EventStore
from tests.builders import make_world, place_night


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listings", type=int, default=500)
    ap.add_argument("--placements", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, cache_size=10_000)
    world = make_world(store)
    listings = [world.active_listing() for _ in range(args.listings)]
    renter = Actor(uuid.uuid4(), "user")
    first = date(2026, 7, 1)
    k = 0

    def place(count: int) -> None:
        nonlocal k
        with command_context(renter):
            for _ in range(count):
                night = first + timedelta(days=k // len(listings))
                place_night(world.bookings, listings[k % len(listings)], night, renter)
                k += 1

    place(len(listings) * 2)  # every listing and calendar cached
    rounds = []
    for _ in range(args.repeats):
        t0 = time.process_time()
        place(args.placements)
        rounds.append((time.process_time() - t0) / args.placements * 1e6)
    out = {
        "benchmark": "placement_decode_micro",
        "machine": machine(),
        "params": vars(args),
        "code": os.environ.get("PYTHONPATH", "").split(":")[0],
        "cpu_us_per_placement_median": round(statistics.median(rounds), 1),
        "cpu_us_per_placement_rounds": [round(r, 1) for r in rounds],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
