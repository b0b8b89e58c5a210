#!/usr/bin/env python
"""Order placement on PostgreSQL: 3-item baskets next to single bookings in the same run,
the same database, threads and listings. Prints one JSON object.

  single   `container.bookings.place(...)`: one hold + one booking per save
  order    `container.orders.place(...)` of 3 items on 3 listings: three holds, three item
           bookings and the order in ONE save (all or nothing)

Both draw collision-free (listing, night) pairs, so every placement should succeed; the
ratios say what a basket costs against the single booking it generalises (per placement and
per item held).

Run:  .venv/bin/python bench/order_placement.py            (defaults finish in ~1 min)
      .venv/bin/python bench/order_placement.py --quick    (smoke run)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _booking_setup import Nights, count_conflicts, create_listings
from _common import CpuMeter, machine, redis_url, run_threads, summary, temporary_database

from application.context import Actor, command_context
from application.orders import OrderItem
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings

CHEAP_ARGON2: dict[str, Any] = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}
BASKET = 3


def _measure(
    container: Container, op: Any, *, threads: int, ops: int, warmup: int, items: int
) -> dict[str, Any]:
    conflicts = count_conflicts(container)
    run_threads(threads, warmup, op)
    conflicts.clear()
    cpu = CpuMeter()
    cpu.start()
    run = run_threads(threads, ops, op)
    result = summary(
        run["latencies"],
        run["seconds"],
        sum(run["errors"].values()),
        threads=threads,
        items_per_placement=items,
        conflicts_retried=conflicts["n"],
        error_kinds=run["errors"],
        cpu=cpu.stop(),
    )
    result["items_per_s"] = round(result["rate_per_s"] * items, 1)
    return result


def bench_pair(
    container: Container, nights: Nights, *, threads: int, ops: int, warmup: int
) -> dict[str, Any]:
    renters = [Actor(uuid.uuid4(), "user") for _ in range(threads * 4)]

    def single(i: int) -> None:
        listing_id, start, end = nights.next()
        renter = renters[i % len(renters)]
        with command_context(renter):
            container.bookings.place(
                renter, listing_id, start=start, end=end, quantity=1, guests=2, at=now()
            )

    def order(i: int) -> None:
        items = [OrderItem(*nights.next()) for _ in range(BASKET)]
        renter = renters[i % len(renters)]
        with command_context(renter):
            container.orders.place(renter, items, guests=2, at=now())

    out = {
        "single": _measure(container, single, threads=threads, ops=ops, warmup=warmup, items=1),
        "order": _measure(container, order, threads=threads, ops=ops, warmup=warmup, items=BASKET),
    }
    s, o = out["single"], out["order"]
    out["ratios"] = {
        "order_rate_over_single_rate": _ratio(o["rate_per_s"], s["rate_per_s"]),
        "order_items_per_s_over_single": _ratio(o["items_per_s"], s["items_per_s"]),
        "order_p50_over_single_p50": _ratio(o["p50_ms"], s["p50_ms"]),
        "order_p99_over_single_p99": _ratio(o["p99_ms"], s["p99_ms"]),
    }
    return out


def now() -> datetime:
    return datetime.now(UTC)


def _ratio(x: float | None, y: float | None) -> float | None:
    return round(x / y, 3) if x and y else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--ops", type=int, default=1500, help="placements measured, each kind")
    ap.add_argument("--listings", type=int, default=600)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = ap.parse_args()
    if args.quick:
        args.ops, args.listings, args.warmup = 150, 90, 20
    started = time.perf_counter()
    out: dict[str, Any] = {
        "benchmark": "order_placement",
        "machine": machine(),
        "params": vars(args),
    }
    with temporary_database(keep=args.keep_db) as db_url:
        settings = Settings(
            environment="test",
            database_url=db_url,
            redis_url=redis_url(),
            redis_key_prefix=f"rentbook-bench:{uuid.uuid4().hex[:10]}:",
            data_dir=Path(os.environ.get("TMPDIR", "/tmp")) / "rentbook-bench",
            postgres_pool_size=max(args.threads, 10),
            workers_in_process=False,
        )
        container = build_container(settings, **CHEAP_ARGON2)
        try:
            t0 = time.perf_counter()
            listings = create_listings(container, args.listings, args.threads)
            out["setup_seconds"] = round(time.perf_counter() - t0, 2)
            nights = Nights(listings, date.today() + timedelta(days=7))
            out.update(
                bench_pair(
                    container, nights, threads=args.threads, ops=args.ops, warmup=args.warmup
                )
            )
        finally:
            container.close()
    out["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
