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
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    CpuMeter,
    machine,
    temporary_database,
)
from _event_seed import log_container, replicate, seed_events
from _pg_backends import BackendCpu
from _projection_lag import lag_benchmarks

from infrastructure.bootstrap import Container
from infrastructure.views_db import create_views_engine
from projections.registry import all_projections
from projections.runner import ProjectionRunner

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
        t0, c0 = time.perf_counter(), time.process_time()
        runner.catch_up([p.name])
        seconds = time.perf_counter() - t0
        per[p.name] = _rates(seconds, total, applicable(container, p.topics))
        per[p.name]["cpu_s_per_10k_log_events"] = _per_10k(time.process_time() - c0, total)
    seconds = time.perf_counter() - t_all
    return {
        "batch_size": runner.batch_size,
        "seconds": round(seconds, 2),
        "log_events": total,
        "log_events_per_s": round(total / seconds),
        "events_applied": sum(v["events_applied"] for v in per.values()),
        "events_applied_per_s": round(sum(v["events_applied"] for v in per.values()) / seconds),
        "per_projection": per,
        "cpu": (used := cpu.stop()),
        "cpu_s_per_10k_log_events": _per_10k(used.get("this_process_cpu_s", 0.0), total),
    }


def time_rebuilds(container: Container, total: int) -> dict[str, Any]:
    runner = container.runner
    per: dict[str, Any] = {}
    cpu = CpuMeter()
    cpu.start()
    t_all = time.perf_counter()
    pg = BackendCpu(_url(container))
    for p in all_projections():
        pg.start()
        t0, c0 = time.perf_counter(), time.process_time()
        position = runner.rebuild(p.name)
        seconds = time.perf_counter() - t0
        this_cpu, ours = time.process_time() - c0, pg.stop()
        per[p.name] = _rates(seconds, total, applicable(container, p.topics))
        per[p.name]["cpu_s_per_10k_log_events"] = _per_10k(this_cpu, total)
        per[p.name]["our_postgres_cpu_s_per_10k_log_events"] = _per_10k(ours, total)
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
        "cpu": (used := cpu.stop()),
        "cpu_s_per_10k_log_events": _per_10k(used.get("this_process_cpu_s", 0.0), total),
    }


def time_rebuild_all(container: Container, total: int) -> dict[str, Any]:
    """Every view in one pass over the log (`runner.rebuild_all`): each page read and
    decoded once."""
    cpu = CpuMeter()
    pg = BackendCpu(_url(container))
    cpu.start()
    pg.start()
    t0 = time.perf_counter()
    position = container.runner.rebuild_all()
    seconds = time.perf_counter() - t0
    ours = pg.stop()
    applied = sum(applicable(container, p.topics) for p in all_projections())
    return {
        "batch_size": container.runner.rebuild_batch_size,
        "seconds": round(seconds, 2),
        "position": position,
        "log_events": total,
        "log_events_per_s": round(total / seconds),
        "events_applied": applied,
        "events_applied_per_s": round(applied / seconds),
        "cpu": (used := cpu.stop()),
        "cpu_s_per_10k_log_events": _per_10k(used.get("this_process_cpu_s", 0.0), total),
        "our_postgres_cpu_s": ours,
        "our_postgres_cpu_s_per_10k_log_events": _per_10k(ours, total),
    }


def time_catch_up_together(container: Container, total: int) -> dict[str, Any]:
    """`runner.catch_up()` of every view at once from zero, into a view database of its own
    (what `rentbook project` does on a new deployment): the views move in step, so each
    page is decoded once for all of them."""
    with temporary_database("rentbook_bench_views") as url:
        engine = create_views_engine(url, pool_size=2)
        try:
            settings = container.settings
            catch_up = getattr(settings, "projection_catch_up_batch_size", None)  # older code
            runner = ProjectionRunner(
                container.store,
                engine,
                all_projections(),
                batch_size=settings.projection_batch_size,
                **({"catch_up_batch_size": catch_up} if catch_up else {}),
            )
            runner.setup()
            cpu = CpuMeter()
            pgs = [BackendCpu(_url(container)), BackendCpu(url)]  # events, views
            cpu.start()
            for pg in pgs:
                pg.start()
            t0, c0 = time.perf_counter(), time.process_time()
            runner.catch_up()
            seconds = time.perf_counter() - t0
            this_cpu = time.process_time() - c0
            ours = sum(pg.stop() for pg in pgs)
            used = cpu.stop()
        finally:
            engine.dispose()
    return {
        "batch_size": runner.batch_size,
        "catch_up_batch_size": getattr(runner, "catch_up_batch_size", None),
        "seconds": round(seconds, 2),
        "log_events": total,
        "log_events_per_s": round(total / seconds),
        "cpu_s_per_10k_log_events": _per_10k(this_cpu, total),
        "our_postgres_cpu_s_per_10k_log_events": _per_10k(ours, total),
        "cpu": used,
    }


def _url(container: Container) -> str:
    assert container.settings.database_url
    return container.settings.database_url


def _per_10k(cpu_seconds: float, total: int) -> float:
    """CPU seconds of this process per 10,000 log events: comparable on a busy machine."""
    return round(cpu_seconds * 10_000 / total, 3) if total else 0.0


def _rates(seconds: float, total: int, applied: int) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 2),
        "events_applied": applied,
        "events_applied_per_s": round(applied / seconds) if seconds else 0,
        "log_events_per_s": round(total / seconds) if seconds else 0,
    }


# -- 4. read-your-writes: `_projection_lag.py` ---------------------------------------------


# -- main ----------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000, help="events in the log")
    ap.add_argument("--seed-events", type=int, default=20_000, help="made by the use cases")
    ap.add_argument("--bookings-per-listing", type=int, default=30)
    ap.add_argument("--lag-samples", type=int, default=200)
    ap.add_argument("--lag-writers", type=int, default=4, help="background writers, loaded case")
    ap.add_argument("--skip", default="", help="comma list: together,catchup,rebuild,onepass,lag")
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
        container = log_container(db_url)
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
            if "together" not in skip:
                out["catch_up_all_views_together"] = time_catch_up_together(container, total)
            if "catchup" not in skip:
                out["catch_up_from_zero"] = time_catch_up(container, total)
            if "rebuild" not in skip:
                out["rebuild"] = time_rebuilds(container, total)
            if "onepass" not in skip:
                out["rebuild_all_one_pass"] = time_rebuild_all(container, total)
            if "rebuild" not in skip and "onepass" not in skip:
                out["rebuild_all_one_pass"]["ratio_to_view_by_view"] = round(
                    out["rebuild"]["seconds"] / out["rebuild_all_one_pass"]["seconds"], 2
                )
            if "lag" not in skip:
                out["read_your_writes_lag"] = lag_benchmarks(
                    container,
                    container.settings,
                    samples=args.lag_samples,
                    writers=args.lag_writers,
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
        "rebuild_slowest_view_log_events_per_s_at_least_60000": (
            rebuild["slowest_projection_log_events_per_s"] >= 60_000 if rebuild else None
        ),
        "lag_p95_below_50ms": {k: v["p95_ms"] < 50 for k, v in lag.items()} or None,
    }
    out["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
