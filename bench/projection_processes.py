#!/usr/bin/env python
"""Catch-up of every view from zero split across processes (`rentbook project --processes
N`), N=1 against N=k in the same run, alternating. Prints one JSON object.

A log of `--events` is made as `projection_rebuild.py` makes it (use cases on an in-memory
store, replicated with fresh ids, bulk-inserted into PostgreSQL). Each round builds every
view into a fresh view database: the views are split with `projections.partition` and each
share is caught up by a worker process of its own (this script with `--worker`; N=1 is one
worker too, so both sides pay the same start-up outside the timing), all released at once.
Reported per round: wall seconds and log events/s until the last worker is done, CPU-s per
10k log events of the workers (each its own `process_time`) and of our PostgreSQL backends
(events and views databases), and each worker's share.

Run:  .venv/bin/python bench/projection_processes.py --events 40000 --seed-events 8000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, temporary_database
from _event_seed import log_container, replicate, seed_events
from _pg_backends import BackendCpu

from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine
from projections.partition import load, partition, topics_of
from projections.registry import all_projections
from projections.runner import ProjectionRunner

ROOT = Path(__file__).resolve().parents[1]


def _runner(events_url: str, views_url: str) -> tuple[ProjectionRunner, Any]:
    settings = Settings(
        environment="test",
        database_url=events_url,
        data_dir=Path("/tmp/rentbook-bench"),
        postgres_pool_size=2,
        postgres_max_overflow=2,
    )
    store = build_event_store(settings)
    engine = create_views_engine(views_url, pool_size=2)
    runner = ProjectionRunner(
        store,
        engine,
        all_projections(),
        batch_size=settings.projection_batch_size,
        catch_up_batch_size=settings.projection_catch_up_batch_size,
    )
    return runner, (store, engine)


def worker(events_url: str, views_url: str, views: list[str]) -> None:
    """Catches up `views` once told to go; keeps its connections (their backends' CPU is
    read by the parent) until told to quit."""
    runner, (store, engine) = _runner(events_url, views_url)
    runner.setup()
    runner.own(views)
    for name in views:
        runner.position(name)  # the pools' connections open before the timing
    print("ready", flush=True)
    sys.stdin.readline()
    t0, c0 = time.perf_counter(), time.process_time()
    runner.catch_up()
    out = {"views": views, "seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    print(json.dumps(out), flush=True)
    sys.stdin.readline()
    store.close()
    engine.dispose()


def one_round(
    events_url: str, total: int, processes: int, given: list[list[str]] | None = None
) -> dict[str, Any]:
    views = topics_of(all_projections())
    parts = given or [p for p in partition(views, processes) if p]
    with temporary_database("rentbook_bench_pj_views") as views_url:
        runner, (store, engine) = _runner(events_url, views_url)
        runner.setup()  # every view's tables before the workers start, as `project` does
        store.close()
        engine.dispose()
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", events_url, views_url, ",".join(part)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for part in parts
        ]
        try:
            for proc in procs:
                assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
            pgs = [BackendCpu(events_url), BackendCpu(views_url)]
            for pg in pgs:
                pg.start()
            t0 = time.perf_counter()
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            results = [json.loads(proc.stdout.readline()) for proc in procs if proc.stdout]
            seconds = time.perf_counter() - t0
            ours = sum(pg.stop() for pg in pgs)
        finally:
            for proc in procs:
                if proc.stdin is not None:
                    proc.stdin.close()
            for proc in procs:
                proc.wait(60)
    cpu = sum(r["cpu_s"] for r in results)
    return {
        "processes": len(parts),
        "split": "given" if given else "partition",
        "seconds": round(seconds, 2),
        "log_events_per_s": round(total / seconds),
        "cpu_s_per_10k_log_events": _per_10k(cpu, total),
        "our_postgres_cpu_s_per_10k_log_events": _per_10k(ours, total),
        "total_cpu_s_per_10k_log_events": _per_10k(cpu + ours, total),
        "workers": [
            {
                "views": r["views"],
                "expected_ms_per_10k": round(load({n: views[n] for n in r["views"]})),
                "seconds": round(r["seconds"], 2),
                "cpu_s_per_10k_log_events": _per_10k(r["cpu_s"], total),
            }
            for r in results
        ],
    }


def _per_10k(cpu_seconds: float, total: int) -> float:
    return round(cpu_seconds * 10_000 / total, 3) if total else 0.0


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4].split(","))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=40_000, help="events in the log")
    ap.add_argument("--seed-events", type=int, default=8_000, help="made by the use cases")
    ap.add_argument("--bookings-per-listing", type=int, default=30)
    ap.add_argument("--processes", type=int, default=2, help="compared with one process")
    ap.add_argument("--pairs", type=int, default=2, help="rounds of N=1 then N=processes")
    ap.add_argument(
        "--parts", default="", help="also a split of one's own each round: a,b;c,d (views)"
    )
    args = ap.parse_args()
    out: dict[str, Any] = {
        "benchmark": "projection_processes",
        "machine": machine(),
        "params": vars(args),
    }
    seed, listing_ids = seed_events(min(args.seed_events, args.events), args.bookings_per_listing)
    batches, _ = replicate(seed, listing_ids, args.events)
    rounds: list[dict[str, Any]] = []
    with temporary_database("rentbook_bench_pj") as events_url:
        container = log_container(events_url)
        try:
            for batch in batches:
                container.store.recorder.insert_events(batch)
            total = container.store.current_position()
        finally:
            container.close()
            seed.close()
        out["log_events"] = total
        for _ in range(args.pairs):
            for n in (1, args.processes):
                rounds.append(one_round(events_url, total, n))
            if args.parts:
                given = [part.split(",") for part in args.parts.split(";")]
                rounds.append(one_round(events_url, total, len(given), given))
    out["rounds"] = rounds
    one = [r for r in rounds if r["processes"] == 1]
    many = [r for r in rounds if r["processes"] == args.processes and r["split"] == "partition"]
    out["ratio_events_per_s"] = [
        round(b["log_events_per_s"] / a["log_events_per_s"], 2)
        for a, b in zip(one, many, strict=False)
    ]
    out["ratio_total_cpu"] = [
        round(b["total_cpu_s_per_10k_log_events"] / a["total_cpu_s_per_10k_log_events"], 2)
        for a, b in zip(one, many, strict=False)
    ]
    if args.parts:
        given_rounds = [r for r in rounds if r["split"] == "given"]
        out["ratio_total_cpu_given"] = [
            round(b["total_cpu_s_per_10k_log_events"] / a["total_cpu_s_per_10k_log_events"], 2)
            for a, b in zip(one, given_rounds, strict=False)
        ]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
