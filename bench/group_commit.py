#!/usr/bin/env python
"""Group commit on and off in the same run (issue #9). Prints one JSON object.

  app   `container.bookings.place(...)` from `--threads` threads across `--listings`
        listings, each round once with grouping off and once on (the store's committer
        swapped in place): rate, latency, and on, how many placements shared a commit
  race  `--racers` threads racing for one one-unit listing (booking_write.py's d), off
        and on: rounds per second, attempt latency, exactly one winner a round
  http  `POST /api/v1/bookings` with wrk (bench/wrk/bookings.lua, as http_wrk.py), the
        server started with RENTBOOK_GROUP_COMMIT=0 then =1, `--rounds` times alternating,
        each on nights of its own: rate, p50/p95/p99, server and PostgreSQL CPU ms per
        request, the load average before each run

On a shared machine the on/off ratios of the same run are what to read (`ratios`).

Run:  .venv/bin/python bench/group_commit.py                 (~2 min)
      .venv/bin/python bench/group_commit.py --duration 5 --rounds 1 --ops 400
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _booking_http import make_renters, start_server
from _booking_setup import Nights, create_listings
from _common import CpuMeter, machine, redis_url, run_threads, summary, temporary_database
from booking_write import bench_race
from http_wrk import _drop_redis_keys, free_port, run_wrk, stop

from application.context import Actor, command_context
from application.group_commit import GroupCommitter
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings

CHEAP_ARGON2: dict[str, Any] = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


def bench_app(
    container: Container, listings: list[UUID], first: date, args: argparse.Namespace, on: bool
) -> dict[str, Any]:
    store = container.store
    store.committer = GroupCommitter(store.recorder.insert_events) if on else None
    renters = [Actor(uuid.uuid4(), "user") for _ in range(args.threads * 4)]
    nights = Nights(listings, first)

    def place(i: int) -> None:
        listing_id, start, end = nights.next()
        renter = renters[i % len(renters)]
        with command_context(renter):
            container.bookings.place(
                renter, listing_id, start=start, end=end, quantity=1, guests=2,
                at=datetime.now(UTC),
            )  # fmt: skip

    load = [round(x, 2) for x in os.getloadavg()]
    cpu = CpuMeter()
    cpu.start()
    run = run_threads(args.threads, args.ops, place)
    result = summary(
        run["latencies"], run["seconds"], sum(run["errors"].values()),
        group_commit=on, error_kinds=run["errors"], cpu=cpu.stop(), load_average_before=load,
    )  # fmt: skip
    if store.committer is not None:
        c = store.committer
        result["groups"] = {
            "commits": c.groups,
            "members_per_commit": round(c.members / max(1, c.groups), 2),
            "fallbacks": c.fallbacks,
        }
    return result


def race(container: Container, args: argparse.Namespace, on: bool) -> dict[str, Any]:
    store = container.store
    store.committer = GroupCommitter(store.recorder.insert_events) if on else None
    load = [round(x, 2) for x in os.getloadavg()]
    result = bench_race(container, racers=args.racers, rounds=args.race_rounds)
    return {"group_commit": on, "load_average_before": load, **result}


def bench_http(
    settings: Settings, work: Path, listings: list[UUID], first: date, args: argparse.Namespace,
    on: bool,
) -> dict[str, Any]:  # fmt: skip
    os.environ["RENTBOOK_GROUP_COMMIT"] = "1" if on else "0"  # the server inherits it
    try:
        port = free_port()
        server = start_server(settings, port, args.workers, 10)
    finally:
        os.environ.pop("RENTBOOK_GROUP_COMMIT", None)
    midnight = datetime(first.year, first.month, first.day, tzinfo=UTC)
    env = {
        "RENTBOOK_WRK_LISTINGS": str(work / "listings.txt"),
        "RENTBOOK_WRK_TOKENS": str(work / "tokens.txt"),
        "RENTBOOK_WRK_FIRST_DAY": str(int(midnight.timestamp())),
    }
    try:
        result = run_wrk(args, f"http://127.0.0.1:{port}", "bookings.lua", env, server.pid)
    finally:
        stop(server)
    result.pop("cpu", None)
    return {"group_commit": on, **result}


def ratios(runs: list[dict[str, Any]], key: str) -> float | None:
    on = [r[key] for r in runs if r["group_commit"]]
    off = [r[key] for r in runs if not r["group_commit"]]
    return round(median(on) / median(off), 3) if on and off and median(off) else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--threads", type=int, default=16, help="threads for app")
    ap.add_argument("--ops", type=int, default=1500, help="placements per app run")
    ap.add_argument("--listings", type=int, default=500)
    ap.add_argument("--renters", type=int, default=64)
    ap.add_argument("--racers", type=int, default=20)
    ap.add_argument("--race-rounds", type=int, default=5, help="race rounds per run")
    ap.add_argument("--rounds", type=int, default=2, help="off/on pairs of each part")
    ap.add_argument("--duration", type=int, default=15, help="seconds of wrk per http run")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--workers", type=int, default=1, help="API workers")
    ap.add_argument("--skip", default="", help="comma list: app,race,http")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    out: dict[str, Any] = {"benchmark": "group_commit", "machine": machine(), "params": vars(args)}
    prefix = f"rentbook-bench:{uuid.uuid4().hex[:10]}:"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, temporary_database("rentbook_bench_gc") as db_url:
        work = Path(tmp)
        settings = Settings(
            environment="test", database_url=db_url, redis_url=redis_url(),
            redis_key_prefix=prefix, data_dir=work / "data", workers_in_process=False,
            postgres_pool_size=max(args.threads, 10), postgres_max_overflow=10,
        )  # fmt: skip
        container = build_container(settings, **CHEAP_ARGON2)
        try:
            listings = create_listings(container, args.listings, 8)
            tokens = make_renters(container, args.renters, 8)
            (work / "listings.txt").write_text("\n".join(map(str, listings)) + "\n")
            (work / "tokens.txt").write_text("\n".join(tokens) + "\n")
            first = date.today() + timedelta(days=7)
            app_runs: list[dict[str, Any]] = []
            http_runs: list[dict[str, Any]] = []
            race_runs: list[dict[str, Any]] = []
            for _ in range(args.rounds):
                for on in (False, True):
                    if "app" not in skip:
                        app_runs.append(bench_app(container, listings, first, args, on))
                        first += timedelta(days=args.ops // args.listings + 2)
                    if "race" not in skip:
                        race_runs.append(race(container, args, on))
                    if "http" not in skip:
                        wrk_args = argparse.Namespace(**{**vars(args), "threads": 2})
                        http_runs.append(bench_http(settings, work, listings, first, wrk_args, on))
                        first += timedelta(days=60)
        finally:
            container.close()
            _drop_redis_keys(prefix)
    out["app"] = app_runs
    out["race"] = race_runs
    out["http"] = http_runs
    out["ratios"] = {
        "app_rate_on_over_off": ratios(app_runs, "rate_per_s"),
        "app_p95_on_over_off": ratios(app_runs, "p95_ms"),
        "race_rounds_per_s_on_over_off": ratios(race_runs, "rounds_per_s"),
        "race_one_winner_every_round": all(
            r["rounds_with_exactly_one_winner"] == r["rounds"] for r in race_runs
        ),
        "http_rate_on_over_off": ratios(http_runs, "ok_per_s"),
        "http_p95_on_over_off": ratios(http_runs, "p95_ms"),
        "http_p99_on_over_off": ratios(http_runs, "p99_ms"),
        "http_server_cpu_on_over_off": ratios(http_runs, "server_cpu_ms_per_request"),
    }
    out["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
