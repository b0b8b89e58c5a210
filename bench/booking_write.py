#!/usr/bin/env python
"""Booking write path on PostgreSQL, measured against the eventsourcing library on the same
database in the same run. Prints one JSON object.

  a   library baseline: plain `Aggregate` load + one event + `Application.save`, and the same
      I/O shape as a placement (load two aggregates, save one changed and one new), from the
      same number of threads as b, in its own events table in the same database
  b   `container.bookings.place(...)` across many listings from N threads
  c   `POST /api/v1/bookings` over HTTP: uvicorn serving `create_app` in a separate process
      (`bench/_http_app.py`, like `rentbook serve --no-background`), 64 concurrent asyncio httpx
      clients, each its own renter with a bearer token, across 1,000 listings
  d   50 renters racing for one unit through the application layer: exactly one winner a round

Run:  .venv/bin/python bench/booking_write.py            (defaults finish in ~1-2 min)
      .venv/bin/python bench/booking_write.py --quick    (smoke run)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _booking_http import bench_http
from _booking_setup import Nights, count_conflicts, create_listings
from _common import (
    CpuMeter,
    latency_summary,
    machine,
    redis_url,
    run_threads,
    summary,
    temporary_database,
)
from _gc_watch import GcWatch
from _library_baseline import bench_library
from _workers_compare import compare_workers

from application.context import Actor, command_context
from domain.errors import UnavailableError
from infrastructure.bootstrap import Container, build_container
from infrastructure.heap import settle_heap
from infrastructure.settings import Settings

CHEAP_ARGON2: dict[str, Any] = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


# -- (b) the application layer -------------------------------------------------------------


def bench_application(
    container: Container, listings: list[UUID], *, threads: int, ops: int, warmup: int
) -> dict[str, Any]:
    renters = [Actor(uuid.uuid4(), "user") for _ in range(threads * 4)]
    nights = Nights(listings, date.today() + timedelta(days=7))
    conflicts = count_conflicts(container)

    def place(i: int) -> None:
        listing_id, start, end = nights.next()
        renter = renters[i % len(renters)]
        with command_context(renter):
            container.bookings.place(
                renter,
                listing_id,
                start=start,
                end=end,
                quantity=1,
                guests=2,
                at=datetime.now(UTC),
            )

    run_threads(threads, warmup, place)
    conflicts.clear()
    cpu = CpuMeter()
    cpu.start()
    run = run_threads(threads, ops, place)
    return summary(
        run["latencies"],
        run["seconds"],
        sum(run["errors"].values()),
        threads=threads,
        listings=len(listings),
        conflicts_retried=conflicts["n"],
        error_kinds=run["errors"],
        cpu=cpu.stop(),
    )


# -- (d) the race --------------------------------------------------------------------------


def bench_race(
    container: Container, *, racers: int, rounds: int, known_renters: bool = False
) -> dict[str, Any]:
    now = datetime.now(UTC)
    listing_id = create_listings(container, 1, 1)[0]
    first = date.today() + timedelta(days=7)
    conflicts = count_conflicts(container)
    attempt_latencies: list[float] = []
    winner_latencies: list[float] = []
    round_walls: list[float] = []
    bad_rounds = 0
    race_cpu = 0.0  # this process's CPU while racing (the racers' key making left out)
    errors: Counter[str] = Counter()
    lock = threading.Lock()

    def renters() -> list[Actor]:
        actors = [Actor(uuid.uuid4(), "user") for _ in range(racers)]
        keyring = container.store.keyring
        if known_renters and keyring is not None:
            # A registered renter's personal-data key exists (sign-up made it): a new one
            # costs each racer a key lookup and insert inside its save. Made here, one by
            # one: 50 racers at once would wait on the key ring's connection pool.
            for actor in actors:
                keyring.seal(actor.id, b"", b"")
        return actors

    def racer(
        i: int, night: date, barrier: threading.Barrier, renter: Actor
    ) -> tuple[str, float, float]:
        start = night + timedelta(days=i % 3)  # every period covers night+2: one can win
        barrier.wait()
        t0 = time.perf_counter()
        try:
            with command_context(renter):
                container.bookings.place(
                    renter,
                    listing_id,
                    start=start.isoformat(),
                    end=(start + timedelta(days=3)).isoformat(),
                    quantity=1,
                    guests=1,
                    at=now,
                )
            outcome = "won"
        except UnavailableError:
            outcome = "lost"
        except Exception as exc:
            outcome = f"{type(exc).__name__}: {str(exc)[:100]}"
        return outcome, t0, time.perf_counter()

    watch = GcWatch()  # the collector's pauses while racing (a tail's usual suspect)
    with ThreadPoolExecutor(racers) as pool:
        total_t0 = time.perf_counter()
        for r in range(rounds):
            barrier = threading.Barrier(racers)
            night = first + timedelta(days=10 * r)
            actors = renters()
            cpu0 = time.process_time()
            with watch:
                results = list(
                    pool.map(racer, range(racers), [night] * racers, [barrier] * racers, actors)
                )
            race_cpu += time.process_time() - cpu0
            begin = min(t0 for _, t0, _ in results)
            end = max(t1 for _, _, t1 in results)
            round_walls.append(end - begin)
            winners = 0
            with lock:
                for outcome, t0, t1 in results:
                    if outcome == "won":
                        winners += 1
                        winner_latencies.append(t1 - t0)
                        attempt_latencies.append(t1 - t0)
                    elif outcome == "lost":
                        attempt_latencies.append(t1 - t0)
                    else:
                        errors[outcome] += 1
            if winners != 1:
                bad_rounds += 1
        seconds = time.perf_counter() - total_t0
    rounds_summary = latency_summary(round_walls)
    return {
        "racers": racers,
        "known_renters": known_renters,
        "rounds": rounds,
        "seconds": round(seconds, 3),
        "rounds_per_s": round(rounds / seconds, 2),
        "rounds_with_exactly_one_winner": rounds - bad_rounds,
        "attempts": summary(attempt_latencies, sum(round_walls), sum(errors.values())),
        "cpu_ms_per_attempt": round(race_cpu / max(1, rounds * racers) * 1000, 3),
        "winner": latency_summary(winner_latencies),
        "round_wall": rounds_summary,
        "round_walls_ms": [round(w * 1000, 1) for w in round_walls],
        "gc_while_racing": watch.summary(),
        "conflicts_retried": conflicts["n"],
        "errors": sum(errors.values()) + bad_rounds,
        "error_kinds": dict(errors),
    }


# -- main ----------------------------------------------------------------------------------


def event_sizes(settings: Settings) -> dict[str, int]:
    """Average stored state size of the events a placement writes (for the baseline)."""
    import psycopg

    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT topic, avg(length(state))::int FROM rentbook_events "
            "WHERE topic LIKE '%Booking.Placed' OR topic LIKE '%HoldPlaced' GROUP BY topic"
        ).fetchall()
    sizes = {"booking": 1500, "calendar": 250}
    for topic, size in rows:
        sizes["booking" if topic.endswith("Booking.Placed") else "calendar"] = int(size)
    return sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--threads", type=int, default=16, help="threads for a and b")
    ap.add_argument("--ops", type=int, default=4000, help="operations measured in a and b")
    ap.add_argument("--listings", type=int, default=1000, help="listings for b and for c each")
    ap.add_argument("--http-clients", type=int, default=64)
    ap.add_argument("--http-ops", type=int, default=2000)
    ap.add_argument("--http-workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--server-pool", type=int, default=20, help="server's PostgreSQL pool size")
    ap.add_argument(
        "--compare-workers",
        default="1,2",
        help="after c, c again per worker count in this comma list ('' to skip): `workers`",
    )
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--racers", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument(
        "--known-renters",
        action="store_true",
        help="d: racers whose personal-data key exists (registered users), not new ones",
    )
    ap.add_argument("--no-settle-heap", action="store_true", help="d: race without settle_heap")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--skip", default="", help="comma list of parts to skip: a,b,c,d")
    ap.add_argument("--profile-http", default=None, help="py-spy output file for the server")
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = ap.parse_args()
    if args.quick:
        args.ops, args.http_ops, args.listings, args.rounds, args.warmup = 400, 400, 100, 3, 50
    skip = set(filter(None, args.skip.split(",")))
    port = args.port or _free_port()

    started = time.perf_counter()
    out: dict[str, Any] = {"benchmark": "booking_write", "machine": machine(), "params": vars(args)}
    redis_prefix = f"rentbook-bench:{uuid.uuid4().hex[:10]}:"
    with temporary_database(keep=args.keep_db) as db_url:
        settings = Settings(
            environment="test",
            database_url=db_url,
            redis_url=redis_url(),
            redis_key_prefix=redis_prefix,
            data_dir=Path(os.environ.get("TMPDIR", "/tmp")) / "rentbook-bench",
            postgres_pool_size=max(args.threads, 10),
            postgres_max_overflow=max(args.racers, 10),
            workers_in_process=False,
        )
        container = build_container(settings, **CHEAP_ARGON2)
        try:
            t0 = time.perf_counter()
            listings_b = create_listings(container, args.listings, args.threads)
            listings_c = (
                create_listings(container, args.listings, args.threads) if "c" not in skip else []
            )
            out["setup_seconds"] = round(time.perf_counter() - t0, 2)
            if "b" not in skip:
                out["b_application"] = bench_application(
                    container, listings_b, threads=args.threads, ops=args.ops, warmup=args.warmup
                )
            sizes = event_sizes(settings)
            out["event_state_bytes"] = sizes
            if "a" not in skip:
                out["a_library"] = bench_library(
                    settings,
                    threads=args.threads,
                    ops=args.ops,
                    aggregates=args.listings,
                    payload_bytes=sizes,
                )
            if "c" not in skip:
                out["c_http"] = bench_http(
                    container,
                    settings,
                    listings_c,
                    clients=args.http_clients,
                    ops=args.http_ops,
                    warmup=args.warmup,
                    workers=args.http_workers,
                    port=port,
                    server_pool=args.server_pool,
                    profile=args.profile_http,
                )
            counts = [int(n) for n in args.compare_workers.split(",") if n.strip()]
            if "c" not in skip and counts:
                out["workers"] = compare_workers(
                    lambda n, first: bench_http(
                        container,
                        settings,
                        listings_c,
                        clients=args.http_clients,
                        ops=args.http_ops,
                        warmup=args.warmup,
                        workers=n,
                        port=_free_port(),
                        server_pool=args.server_pool,
                        profile=None,
                        first=first,
                    ),
                    counts,
                    date.today() + timedelta(days=60),
                )
            if "d" not in skip:
                if not args.no_settle_heap:  # as an API worker does once its app is up
                    settle_heap()
                out["d_race"] = bench_race(
                    container,
                    racers=args.racers,
                    rounds=args.rounds,
                    known_renters=args.known_renters,
                )
        finally:
            container.close()
            _drop_redis_keys(redis_prefix)
    out["ratios"] = _ratios(out)
    out["targets"] = _targets(out)
    out["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2, default=str))


def _ratios(out: dict[str, Any]) -> dict[str, float | None]:
    def rate(*path: str) -> float | None:
        node: Any = out
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        return node if isinstance(node, int | float) else None

    a = rate("a_library", "load_append_save", "rate_per_s")
    a_shape = rate("a_library", "placement_shape", "rate_per_s")
    b = rate("b_application", "rate_per_s")
    c = rate("c_http", "rate_per_s")

    def ratio(x: float | None, y: float | None) -> float | None:
        return round(x / y, 3) if x and y else None

    return {
        "b_over_a": ratio(b, a),
        "c_over_a": ratio(c, a),
        "b_over_a_shape": ratio(b, a_shape),
        "c_over_a_shape": ratio(c, a_shape),
        "c_over_b": ratio(c, b),
    }


def _targets(out: dict[str, Any]) -> dict[str, Any]:
    c = out.get("c_http") or {}
    ratios = out["ratios"]
    return {
        "c_at_least_0.8_a": (ratios["c_over_a"] or 0) >= 0.8 if c else None,
        "c_at_least_1000_per_s": c.get("rate_per_s", 0) >= 1000 if c else None,
        "c_p95_below_25ms": c.get("p95_ms", 1e9) < 25 if c else None,
        "d_exactly_one_winner_every_round": (
            out["d_race"]["rounds_with_exactly_one_winner"] == out["d_race"]["rounds"]
            if "d_race" in out
            else None
        ),
    }


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _drop_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url())
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


if __name__ == "__main__":
    main()
