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
import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    ROOT,
    CpuMeter,
    latency_summary,
    machine,
    redis_url,
    run_threads,
    summary,
    temporary_database,
    verified_owner,
)
from _workers_compare import compare_workers, tree_rss_mb
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from application.context import Actor, command_context
from domain.errors import UnavailableError
from infrastructure.bootstrap import Container, build_container
from infrastructure.eventstore import event_store_env
from infrastructure.settings import Settings
from tests.builders import listing_spec

CHEAP_ARGON2: dict[str, Any] = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}
PASSWORD = "bench-password-123"


# -- (a) the library on its own ------------------------------------------------------------


class Counter_(Aggregate):
    """A long-lived aggregate changed by every operation (stands in for the calendar)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.n = 0

    @event("Bumped")
    def bump(self, payload: dict[str, Any]) -> None:
        self.n += 1
        self.last = payload


class Item(Aggregate):
    """A new aggregate per operation (stands in for the booking)."""

    def __init__(self, ref: UUID, payload: dict[str, Any]) -> None:
        self.ref = ref
        self.payload = payload


class Baseline(Application[UUID]):
    name = "BenchBaseline"  # its own table: benchbaseline_events
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Counter_: 50}


def _payload(size: int) -> dict[str, Any]:
    """A JSON-ish dict of roughly `size` bytes, shaped like our events (strings, ints)."""
    fields = max(1, size // 40)
    return {f"field_{i:02d}": f"value-{i:04d}-{'x' * 16}" for i in range(fields)}


def bench_library(
    settings: Settings, *, threads: int, ops: int, aggregates: int, payload_bytes: dict[str, int]
) -> dict[str, Any]:
    env = event_store_env(settings)
    app = Baseline(env=env)
    small, big = _payload(payload_bytes["calendar"]), _payload(payload_bytes["booking"])
    counters = [Counter_(small) for _ in range(aggregates)]
    others = [Counter_(small) for _ in range(aggregates)]
    for chunk in range(0, aggregates, 200):
        app.save(*counters[chunk : chunk + 200], *others[chunk : chunk + 200])
    cids = [c.id for c in counters]
    oids = [o.id for o in others]
    conflicts = Counter[str]()

    def single(i: int) -> None:  # load + one event + save
        while True:
            agg: Counter_ = app.repository.get(cids[i % aggregates])
            agg.bump(small)
            try:
                app.save(agg)
                return
            except IntegrityError:
                conflicts["single"] += 1

    def shape(i: int) -> None:  # what a placement does to the store, without the domain
        while True:
            agg: Counter_ = app.repository.get(cids[i % aggregates])
            app.repository.get(oids[i % aggregates])
            item = Item(agg.id, big)
            agg.bump(small)
            try:
                app.save(agg, item)
                return
            except IntegrityError:
                conflicts["shape"] += 1

    run_threads(threads, min(200, ops), single)  # warm-up: pool, caches, JIT of psycopg
    single_run = run_threads(threads, ops, single)
    shape_run = run_threads(threads, ops, shape)
    app.close()
    errs_single = sum(single_run["errors"].values())
    errs_shape = sum(shape_run["errors"].values())
    return {
        "load_append_save": summary(
            single_run["latencies"],
            single_run["seconds"],
            errs_single,
            threads=threads,
            conflicts_retried=conflicts["single"],
            error_kinds=single_run["errors"],
        ),
        "placement_shape": summary(
            shape_run["latencies"],
            shape_run["seconds"],
            errs_shape,
            threads=threads,
            conflicts_retried=conflicts["shape"],
            what="get x2, one event on an existing aggregate + one new aggregate, one save",
            error_kinds=shape_run["errors"],
        ),
    }


# -- setup through the use cases -----------------------------------------------------------


def create_listings(container: Container, count: int, threads: int) -> list[UUID]:
    """Active listings (create, submit, approve), one night at a time, instant book."""
    now = datetime.now(UTC)
    admin = Actor(uuid.uuid4(), "admin")
    owners = [verified_owner(container.store, now) for _ in range(max(threads, count // 50))]
    spec = listing_spec(booking_window_days=730, quantity=1, capacity=4)

    def create(owner: Actor) -> UUID:
        while True:  # creating a listing also moves its owner: two at once may conflict
            try:
                return container.listings.create(owner, dict(spec), now)[0]
            except IntegrityError:
                continue

    def one(i: int) -> UUID:
        owner = owners[i % len(owners)]
        with command_context(owner):
            listing_id = create(owner)
            container.listings.submit(owner, listing_id, now)
        with command_context(admin):
            container.listings.approve(admin, listing_id, now)
        return listing_id

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


class Nights:
    """Hands out (listing, night) pairs that never collide: the k-th booking goes to listing
    k % L on night k // L after the start date, so every placement should succeed."""

    def __init__(self, listings: list[UUID], first: date) -> None:
        self.listings = listings
        self.first = first
        self._counter = itertools.count()

    def next(self) -> tuple[UUID, str, str]:
        k = next(self._counter)
        listing = self.listings[k % len(self.listings)]
        start = self.first + timedelta(days=k // len(self.listings))
        return listing, start.isoformat(), (start + timedelta(days=1)).isoformat()


# -- (b) the application layer -------------------------------------------------------------


def bench_application(
    container: Container, listings: list[UUID], *, threads: int, ops: int, warmup: int
) -> dict[str, Any]:
    renters = [Actor(uuid.uuid4(), "user") for _ in range(threads * 4)]
    nights = Nights(listings, date.today() + timedelta(days=7))
    conflicts = _count_conflicts(container)

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


def _count_conflicts(container: Container) -> Counter[str]:
    """Counts optimistic-concurrency losses (retried inside the use case) in this process."""
    counts: Counter[str] = Counter()
    store = container.store
    original = type(store).record

    def record(*aggregates: Any) -> int:
        try:
            return original(store, *aggregates)
        except IntegrityError:
            counts["n"] += 1
            raise

    store.record = record  # type: ignore[method-assign]
    return counts


# -- (c) over HTTP ---------------------------------------------------------------------------


def make_renters(container: Container, count: int, threads: int) -> list[str]:
    """Registers renters and logs them in through the use cases; returns bearer tokens."""
    now = datetime.now(UTC)
    run_id = uuid.uuid4().hex[:8]

    def one(i: int) -> str:
        email = f"renter-{run_id}-{i}@bench.example"
        container.identity.register(email, PASSWORD, f"Renter {i}", at=now)
        session, _, _ = container.identity.login(email, PASSWORD, at=now)
        assert session.token is not None
        return session.token

    with ThreadPoolExecutor(min(threads, count)) as pool:
        return list(pool.map(one, range(count)))


def start_server(
    settings: Settings, port: int, workers: int, pool_size: int
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "RENTBOOK_ENVIRONMENT": "test",
            "RENTBOOK_DATABASE_URL": settings.database_url or "",
            "RENTBOOK_REDIS_URL": settings.redis_url or "",
            "RENTBOOK_REDIS_KEY_PREFIX": settings.redis_key_prefix,
            "RENTBOOK_DATA_DIR": str(settings.data_dir),
            "RENTBOOK_WORKERS_IN_PROCESS": "false",
            "RENTBOOK_POSTGRES_POOL_SIZE": str(pool_size),
            "RENTBOOK_POSTGRES_MAX_OVERFLOW": str(pool_size),
        }
    )
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", "bench._http_app:app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "60",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("uvicorn did not become healthy in 60 s")


async def _http_load(
    base: str, tokens: list[str], nights: Nights, *, clients: int, total: int
) -> dict[str, Any]:
    import httpx

    counter = itertools.count()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    samples: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker(w: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[w % len(tokens)]}"}
            while next(counter) < total:
                listing_id, start, end = nights.next()
                body = {
                    "listing_id": str(listing_id),
                    "start": start,
                    "end": end,
                    "quantity": 1,
                    "guests": 2,
                }
                t0 = time.perf_counter()
                try:
                    r = await client.post("/api/v1/bookings", json=body, headers=headers)
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                    continue
                elapsed = time.perf_counter() - t0
                if r.status_code == 201:
                    latencies.append(elapsed)
                else:
                    statuses[str(r.status_code)] += 1
                    if len(samples) < 3:
                        samples.append(r.text[:300])

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(clients)))
        seconds = time.perf_counter() - t0
    return {
        "latencies": latencies,
        "seconds": seconds,
        "errors": dict(statuses),
        "samples": samples,
    }


def bench_http(
    container: Container,
    settings: Settings,
    listings: list[UUID],
    *,
    clients: int,
    ops: int,
    warmup: int,
    workers: int,
    port: int,
    server_pool: int,
    profile: str | None,
    first: date | None = None,
) -> dict[str, Any]:
    tokens = make_renters(container, clients, 16)
    nights = Nights(listings, first or date.today() + timedelta(days=7))
    proc = start_server(settings, port, workers, server_pool)
    spy: subprocess.Popen[bytes] | None = None
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(_http_load(base, tokens, nights, clients=clients, total=warmup))
        if profile:
            spy = subprocess.Popen(
                [str(Path(sys.executable).with_name("py-spy")), "record", "-o", profile,
                 "-f", _spy_format(profile),
                 "--pid", str(proc.pid), "--subprocesses", "--rate", "200", "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1.0)
        cpu = CpuMeter(server_pid=proc.pid)
        cpu.start()
        run = asyncio.run(_http_load(base, tokens, nights, clients=clients, total=ops))
        cpu_used = cpu.stop()
        rss_mb = tree_rss_mb(proc.pid)  # after the load, before the server stops
    finally:
        if spy is not None:
            spy.send_signal(2)
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    result = summary(
        run["latencies"],
        run["seconds"],
        sum(run["errors"].values()),
        clients=clients,
        listings=len(listings),
        server=f"uvicorn in a separate process, {workers} worker(s), asyncio loop, "
        "h11, create_app(settings) with PostgreSQL + Redis, no in-process workers",
        error_kinds=run["errors"],
        cpu=cpu_used,
        rss_mb=rss_mb,
    )
    if run["samples"]:
        result["error_samples"] = run["samples"]
    if profile:
        result["profile"] = profile
    return result


# -- (d) the race --------------------------------------------------------------------------


def bench_race(container: Container, *, racers: int, rounds: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    listing_id = create_listings(container, 1, 1)[0]
    first = date.today() + timedelta(days=7)
    conflicts = _count_conflicts(container)
    attempt_latencies: list[float] = []
    winner_latencies: list[float] = []
    round_walls: list[float] = []
    bad_rounds = 0
    errors: Counter[str] = Counter()
    lock = threading.Lock()

    def racer(i: int, night: date, barrier: threading.Barrier) -> tuple[str, float, float]:
        renter = Actor(uuid.uuid4(), "user")
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

    with ThreadPoolExecutor(racers) as pool:
        total_t0 = time.perf_counter()
        for r in range(rounds):
            barrier = threading.Barrier(racers)
            night = first + timedelta(days=10 * r)
            results = list(pool.map(racer, range(racers), [night] * racers, [barrier] * racers))
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
        "rounds": rounds,
        "seconds": round(seconds, 3),
        "rounds_per_s": round(rounds / seconds, 2),
        "rounds_with_exactly_one_winner": rounds - bad_rounds,
        "attempts": summary(attempt_latencies, sum(round_walls), sum(errors.values())),
        "winner": latency_summary(winner_latencies),
        "round_wall": rounds_summary,
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
    ap.add_argument(
        "--compare-workers",
        default="1,2",
        help="after c, c again per worker count in this comma list ('' to skip): `workers`",
    )
    ap.add_argument("--server-pool", type=int, default=20, help="server's PostgreSQL pool size")
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--racers", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=20)
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
                out["d_race"] = bench_race(container, racers=args.racers, rounds=args.rounds)
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


def _spy_format(path: str) -> str:
    """py-spy output format from the file name: .json speedscope, .svg flamegraph, else raw
    (collapsed stacks, one line per stack, for grep and sort)."""
    if path.endswith(".json"):
        return "speedscope"
    return "flamegraph" if path.endswith(".svg") else "raw"


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
