#!/usr/bin/env python
"""Rebuilds chosen views alone, several rounds, on one seeded PostgreSQL log: CPU per 10k
log events of this process and of our PostgreSQL backends per view and round (the machine is
shared, so CPU, not rates, compares runs). `--profile FILE` writes a cProfile of the rebuilds.
The profile counts CPU time, yet it inflates code made of many small calls (psycopg's array
dumper looked like a quarter of notifications' time under it, ~1% by py-spy and by A/B).

`--views ALL` rebuilds every view in one pass; `--ab-light` alternates light events
(`projections/light.py`) on and off in this process (the fair comparison on a shared machine).

Run:  .venv/bin/python bench/view_rebuild.py --views notifications,deadlines --rounds 3
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, temporary_database
from _event_seed import log_container, replicate, seed_events
from _pg_backends import BackendCpu

from projections import light


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--views", required=True, help="comma list of view names")
    ap.add_argument("--events", type=int, default=40_000)
    ap.add_argument("--seed-events", type=int, default=8_000)
    ap.add_argument("--bookings-per-listing", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", default="", help="write a cProfile of the rebuilds here")
    ap.add_argument(
        "--ab-light",
        action="store_true",
        help="each rebuild twice, alternating: light events on, then off (the mapper only)",
    )
    args = ap.parse_args()
    views = [v for v in args.views.split(",") if v]
    seed, listing_ids = seed_events(min(args.seed_events, args.events), args.bookings_per_listing)
    batches, _ = replicate(seed, listing_ids, args.events)
    out: dict[str, Any] = {"benchmark": "view_rebuild", "machine": machine(), "params": vars(args)}
    # CPU time, not wall: the machine is shared and waits on PostgreSQL are not ours.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    with temporary_database() as db_url:
        container = log_container(db_url)
        try:
            for batch in batches:
                container.store.recorder.insert_events(batch)
            total = container.store.current_position()
            out["log_events"] = total
            pg = BackendCpu(db_url)
            modes = ("", "_no_light") if args.ab_light else ("",)
            per: dict[str, list[dict[str, float]]] = {v + m: [] for v in views for m in modes}
            light_event = light.light_event
            for _ in range(args.rounds):
                for view, mode in ((v, m) for v in views for m in modes):
                    # "_no_light": every event through the mapper, as before light events
                    light.light_event = light_event if not mode else lambda *a: None  # type: ignore[assignment]
                    pg.start()
                    t0, c0 = time.perf_counter(), time.process_time()
                    if profiler:
                        profiler.enable()
                    if view == "ALL":  # every view in one pass
                        container.runner.rebuild_all()
                    else:
                        container.runner.rebuild(view)
                    if profiler:
                        profiler.disable()
                    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
                    light.light_event = light_event
                    per[view + mode].append(
                        {
                            "cpu_s_per_10k": round(cpu * 10_000 / total, 4),
                            "pg_cpu_s_per_10k": round(pg.stop() * 10_000 / total, 4),
                            "log_events_per_s": round(total / seconds),
                            "load": round(os.getloadavg()[0], 1),
                        }
                    )
            out["per_view"] = per
        finally:
            container.close()
            seed.close()
    if profiler:
        profiler.dump_stats(args.profile)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
