#!/usr/bin/env python
"""Projection rebuild speed and read-your-writes lag on PostgreSQL. Prints one JSON object.

1. Events: a seed of realistic events is made by the real use cases (listings created,
   submitted, approved; bookings placed, cancelled, expired, approved, declined; blocks and
   price overrides) on an in-memory event store, then replicated with fresh ids (every
   aggregate and actor id remapped, calendar ids re-derived) until there are `--events`,
   and bulk-inserted into the PostgreSQL events table (`recorder.insert_events`, 2,000 per
   transaction).
2. `container.runner.catch_up()` from zero: every projection, one after another, pages of
   `projection_batch_size` (500) — what a new deployment or `rentbook project` on an empty
   view database does.
3. `container.runner.rebuild(name)` for every projection (fresh tables, pages of 5,000,
   swap) — what a version bump or an admin rebuild does.
4. Read-your-writes lag with the runner following: place a booking through the use case,
   then time `runner.wait_for(position, None, 5)` (all views). Two wake paths:
   `in_process` (the store's listener wakes the runner in the writing process) and
   `listen_notify` (a runner with its own EventStore, woken only by PostgreSQL
   LISTEN/NOTIFY, as `rentbook project` in its own process is), idle and under write load.

Run:  .venv/bin/python bench/projection_rebuild.py                 (200k events)
      .venv/bin/python bench/projection_rebuild.py --events 20000  (quick)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    CpuMeter,
    latency_summary,
    machine,
    temporary_database,
    verified_owner,
)
from _event_seed import replicate, seed_events

from application.context import Actor, command_context
from infrastructure.bootstrap import Container, build_container
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import listing_spec

# -- 1. events: `_event_seed.py` ---------------------------------------------------------------


# -- 2./3. catch-up and rebuilds -------------------------------------------------------------


def applicable(container: Container, topics: tuple[str, ...]) -> int:
    """How many events of the log a projection with these topics applies."""
    import psycopg

    assert container.settings.database_url
    with psycopg.connect(container.settings.database_url) as conn:
        if topics:
            row = conn.execute(
                "SELECT count(*) FROM rentbook_events WHERE topic = ANY(%s)", (list(topics),)
            ).fetchone()
        else:
            row = conn.execute("SELECT count(*) FROM rentbook_events").fetchone()
    return int(row[0]) if row else 0


def time_catch_up(container: Container, total: int) -> dict[str, Any]:
    runner = container.runner
    per: dict[str, Any] = {}
    cpu = CpuMeter()
    cpu.start()
    t_all = time.perf_counter()
    for p in all_projections():
        t0 = time.perf_counter()
        runner.catch_up([p.name])
        seconds = time.perf_counter() - t0
        per[p.name] = _rates(seconds, total, applicable(container, p.topics))
    seconds = time.perf_counter() - t_all
    return {
        "batch_size": runner.batch_size,
        "seconds": round(seconds, 2),
        "log_events": total,
        "log_events_per_s": round(total / seconds),
        "events_applied": sum(v["events_applied"] for v in per.values()),
        "events_applied_per_s": round(sum(v["events_applied"] for v in per.values()) / seconds),
        "per_projection": per,
        "cpu": cpu.stop(),
    }


def time_rebuilds(container: Container, total: int) -> dict[str, Any]:
    runner = container.runner
    per: dict[str, Any] = {}
    cpu = CpuMeter()
    cpu.start()
    t_all = time.perf_counter()
    for p in all_projections():
        t0 = time.perf_counter()
        position = runner.rebuild(p.name)
        seconds = time.perf_counter() - t0
        per[p.name] = _rates(seconds, total, applicable(container, p.topics))
        per[p.name]["position"] = position
    seconds = time.perf_counter() - t_all
    applied = sum(v["events_applied"] for v in per.values())
    return {
        "batch_size": runner.rebuild_batch_size,
        "seconds": round(seconds, 2),
        "log_events": total,
        "log_events_per_s": round(total / seconds),
        "events_applied": applied,
        "events_applied_per_s": round(applied / seconds),
        "slowest_projection_log_events_per_s": min(v["log_events_per_s"] for v in per.values()),
        "per_projection": per,
        "cpu": cpu.stop(),
    }


def time_rebuild_all(container: Container, total: int) -> dict[str, Any]:
    """Every view in one pass over the log (`runner.rebuild_all`): each page read and
    decoded once."""
    cpu = CpuMeter()
    cpu.start()
    t0 = time.perf_counter()
    position = container.runner.rebuild_all()
    seconds = time.perf_counter() - t0
    applied = sum(applicable(container, p.topics) for p in all_projections())
    return {
        "batch_size": container.runner.rebuild_batch_size,
        "seconds": round(seconds, 2),
        "position": position,
        "log_events": total,
        "log_events_per_s": round(total / seconds),
        "events_applied": applied,
        "events_applied_per_s": round(applied / seconds),
        "cpu": cpu.stop(),
    }


def _rates(seconds: float, total: int, applied: int) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 2),
        "events_applied": applied,
        "events_applied_per_s": round(applied / seconds) if seconds else 0,
        "log_events_per_s": round(total / seconds) if seconds else 0,
    }


# -- 4. read-your-writes ---------------------------------------------------------------------


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


# -- main ----------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000, help="events in the log")
    ap.add_argument("--seed-events", type=int, default=20_000, help="made by the use cases")
    ap.add_argument("--bookings-per-listing", type=int, default=30)
    ap.add_argument("--lag-samples", type=int, default=200)
    ap.add_argument("--lag-writers", type=int, default=4, help="background writers, loaded case")
    ap.add_argument("--skip", default="", help="comma list: catchup,rebuild,lag")
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    started = time.perf_counter()
    out: dict[str, Any] = {
        "benchmark": "projection_rebuild",
        "machine": machine(),
        "params": vars(args),
    }
    t0 = time.perf_counter()
    seed, listing_ids = seed_events(min(args.seed_events, args.events), args.bookings_per_listing)
    seed_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    batches, topics = replicate(seed, listing_ids, args.events)
    replicate_seconds = time.perf_counter() - t0
    with temporary_database(keep=args.keep_db) as db_url:
        settings = Settings(
            environment="test",
            database_url=db_url,
            data_dir=Path(os.environ.get("TMPDIR", "/tmp")) / "rentbook-bench",
            postgres_pool_size=10,
            workers_in_process=False,
        )
        container = build_container(settings, time_cost=1, memory_cost=64, parallelism=1)
        try:
            t0 = time.perf_counter()
            for batch in batches:
                container.store.recorder.insert_events(batch)
            insert_seconds = time.perf_counter() - t0
            total = container.store.current_position()
            out["events"] = {
                "total": total,
                "seed_events_from_use_cases": seed.current_position(),
                "seed_seconds": round(seed_seconds, 2),
                "replicate_seconds": round(replicate_seconds, 2),
                "insert_seconds": round(insert_seconds, 2),
                "insert_per_s": round(total / insert_seconds),
                "by_type": dict(topics.most_common()),
            }
            if "catchup" not in skip:
                out["catch_up_from_zero"] = time_catch_up(container, total)
            if "rebuild" not in skip:
                out["rebuild"] = time_rebuilds(container, total)
                out["rebuild_all_one_pass"] = time_rebuild_all(container, total)
                out["rebuild_all_one_pass"]["ratio_to_view_by_view"] = round(
                    out["rebuild"]["seconds"] / out["rebuild_all_one_pass"]["seconds"], 2
                )
            if "lag" not in skip:
                out["read_your_writes_lag"] = lag_benchmarks(
                    container, settings, samples=args.lag_samples, writers=args.lag_writers
                )
        finally:
            container.close()
            seed.close()
    rebuild = out.get("rebuild", {})
    one_pass = out.get("rebuild_all_one_pass", {})
    lag = out.get("read_your_writes_lag", {})
    out["targets"] = {
        "rebuild_all_views_events_per_s_at_least_30000": (
            one_pass["log_events_per_s"] >= 30_000 if one_pass else None
        ),
        "rebuild_slowest_view_log_events_per_s_at_least_30000": (
            rebuild["slowest_projection_log_events_per_s"] >= 30_000 if rebuild else None
        ),
        "lag_p95_below_50ms": {k: v["p95_ms"] < 50 for k, v in lag.items()} or None,
    }
    out["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
