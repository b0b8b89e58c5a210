#!/usr/bin/env python
"""HTTP throughput with `wrk` as the load generator. Prints one JSON object.

The asyncio/httpx clients of booking_write.py and search.py spend about as much CPU per
request as the server (issue #9), so on 2 cores they halve what they measure; wrk (C, a Lua
script per request) costs a few µs. Needs Debian's `wrk` (`apt-get install -y wrk`;
`scripts/setup.sh bench` installs it), PostgreSQL, and Redis for `bookings`.

  bookings  `POST /api/v1/bookings` (bench/wrk/bookings.lua): `--listings` active listings
            and `--renters` logged-in renters made through the use cases; request g books
            listing g % L, night first + g // L, so every request should get 201. Server:
            uvicorn serving create_app on PostgreSQL + Redis (bench/_http_app.py,
            `--workers`), as booking_write.py's (c).
  me        `GET /api/v1/users/me` (bench/wrk/me.lua) with the renters' tokens on the bookings
            server: the cheapest authenticated read, i.e. mostly the HTTP layer's own cost.
  search    `GET /api/v1/search/listings` (bench/wrk/search.lua) over search.py's query mix,
            on `--search-size` demo listings seeded and indexed as search.py does (SQLite,
            the embedded backend, workers in-process). The seed's welcome mails are sent
            before the server starts (`--mail-backlog drain`, bench/_mail_backlog.py). With
            `--search-db postgres`: PostgreSQL + Redis and `--workers` API workers, as
            `rentbook serve` runs (bench/_search_http.py).

Per scenario: `rate_per_s` (responses / wrk's duration), `ok_per_s` (2xx/3xx), latency
p50/p90/p95/p99/max from wrk (every response, errors included), `errors` by kind,
`server_cpu_ms_per_request` (the uvicorn process tree's CPU from /proc over the run),
`load_generator_cpu_ms_per_request` (wrk's own CPU), `postgres_cpu_ms_per_request`, `rss_mb`,
the whole machine's CPU split (`cpu`), and the load average before and after: other work on a
shared machine shows in `cpu.other_processes_cpu_s`.

Run:  .venv/bin/python bench/http_wrk.py                            (both, 20 s each)
      .venv/bin/python bench/http_wrk.py --scenarios bookings --duration 10 --connections 32
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _group_stats
from _booking_http import make_renters
from _booking_http import start_server as start_booking_server
from _booking_setup import create_listings
from _common import CpuMeter, machine, redis_url, temporary_database
from _search_http import bench_search
from _server_ready import children_cpu_s, free_port, places_ready
from _servers import SERVERS
from _workers_compare import tree_rss_mb

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings

WRK_DIR = Path(__file__).resolve().parent / "wrk"
CHEAP_ARGON2: dict[str, Any] = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}


def run_wrk(
    args: argparse.Namespace, base: str, script: str, env: dict[str, str], server_pid: int
) -> dict[str, Any]:
    """Runs wrk against `base` while metering the server; returns the scenario's figures."""
    cmd = [
        args.wrk, "-t", str(args.threads), "-c", str(args.connections),
        "-d", f"{args.duration}s", "--timeout", "10s", "-s", str(WRK_DIR / script), base,
    ]  # fmt: skip
    full_env = {**os.environ, **env, "RENTBOOK_WRK_THREADS": str(args.threads)}
    load_before = [round(x, 2) for x in os.getloadavg()]
    meter = CpuMeter(server_pid=server_pid)
    profile = getattr(args, "profile", None)  # group_commit.py's arguments have none
    gil = getattr(args, "profile_gil", False)
    spy = _start_spy(profile, server_pid, gil=gil) if profile else None
    wrk_cpu0 = children_cpu_s()
    meter.start()
    proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, check=False)
    cpu = meter.stop()
    wrk_cpu = children_cpu_s() - wrk_cpu0  # before py-spy is reaped: wrk's alone
    if spy is not None:
        spy.send_signal(2)
        spy.wait(30)
    rss = tree_rss_mb(server_pid)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    raw = json.loads(line.removeprefix("WRK_JSON "))
    requests, seconds = raw["requests"], raw["duration_us"] / 1e6
    errors = raw["errors"]
    ok = requests - errors["status"]

    def per_request_ms(cpu_s: float) -> float:
        return round(1000 * cpu_s / requests, 3) if requests else 0.0

    lat = raw["latency_us"]
    return {
        "requests": requests,
        "seconds": round(seconds, 2),
        "rate_per_s": round(requests / seconds, 1),
        "ok_per_s": round(ok / seconds, 1),
        **{f"{k}_ms": round(lat[k] / 1000, 2) for k in ("p50", "p90", "p95", "p99", "max")},
        "mean_ms": round(lat["mean"] / 1000, 2),
        "errors": {k: v for k, v in errors.items() if v},
        "server_cpu_ms_per_request": per_request_ms(cpu.get("server_cpu_s", 0.0)),
        "load_generator_cpu_ms_per_request": per_request_ms(wrk_cpu),
        "postgres_cpu_ms_per_request": per_request_ms(cpu.get("postgres_cpu_s", 0.0)),
        "rss_mb": rss,
        "cpu": {**cpu, "load_generator_cpu_s": round(wrk_cpu, 2)},
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "wrk": {"threads": args.threads, "connections": args.connections, "script": script},
    }


def _start_spy(profile: str, pid: int, *, gil: bool = False) -> subprocess.Popen[bytes]:
    """py-spy, raw collapsed stacks (for spy_top.py), on the server while wrk runs; with
    `gil`, only the thread holding the GIL (shares of CPU, not of waits)."""
    spy = subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "-o", profile, "-f", "raw",
         "--pid", str(pid), "--subprocesses", "--rate", "200", "--nonblocking",
         *(["--gil"] if gil else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)
    return spy


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def bench_bookings(
    args: argparse.Namespace, work: Path, script: str = "bookings.lua"
) -> dict[str, Any]:
    prefix = f"rentbook-bench:{uuid.uuid4().hex[:10]}:"
    try:
        with temporary_database("rentbook_bench_wrk", keep=args.keep_db) as db_url:
            settings = Settings(
                environment="test",
                database_url=db_url,
                redis_url=redis_url(),
                redis_key_prefix=prefix,
                data_dir=work / "bookings",
                postgres_pool_size=10,
                postgres_max_overflow=10,
                workers_in_process=False,
            )
            container = build_container(settings, **CHEAP_ARGON2)
            try:
                t0 = time.perf_counter()
                wanted = args.listings if script == "bookings.lua" else 0
                listings = create_listings(container, wanted, 8) if wanted else []
                tokens = make_renters(container, args.renters, 8)
                setup_s = time.perf_counter() - t0
            finally:
                container.close()
            (work / "listings.txt").write_text("\n".join(map(str, listings)) + "\n")
            (work / "tokens.txt").write_text("\n".join(tokens) + "\n")
            first = datetime.now(UTC).date() + timedelta(days=7)
            env = {
                "RENTBOOK_WRK_LISTINGS": str(work / "listings.txt"),
                "RENTBOOK_WRK_TOKENS": str(work / "tokens.txt"),
                "RENTBOOK_WRK_FIRST_DAY": str(
                    int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
                ),
            }
            port = free_port()
            stats_dir = work / "group_stats"
            stats_dir.mkdir(exist_ok=True)
            os.environ["RENTBOOK_BENCH_GROUP_STATS"] = str(stats_dir)  # the server's env
            server = start_booking_server(settings, port, args.workers, 10, args.server)
            try:
                places_ready(f"http://127.0.0.1:{port}", args.workers)
                warmup = _warm_up(args, f"http://127.0.0.1:{port}", script, env, first, server.pid)
                time.sleep(0.6)  # every worker has written its counters once
                groups_before = _group_stats.read(stats_dir)
                result = run_wrk(args, f"http://127.0.0.1:{port}", script, env, server.pid)
                time.sleep(0.6)
                result["group_commit"] = _group_stats.delta(
                    groups_before, _group_stats.read(stats_dir)
                )
            finally:
                stop(server)
                os.environ.pop("RENTBOOK_BENCH_GROUP_STATS", None)
    finally:
        _drop_redis_keys(prefix)
    nights = result["requests"] // max(1, len(listings)) + 1
    return {
        **result,
        "warmup": warmup,
        "setup": {"listings": len(listings), "renters": len(tokens), "seconds": round(setup_s, 1)},
        "nights_per_listing": nights,
        "server": f"{args.server}, {args.workers} worker(s), PostgreSQL + Redis, "
        "no in-process workers",
    }


def _warm_up(
    args: argparse.Namespace,
    base: str,
    script: str,
    env: dict[str, str],
    first: date,
    server_pid: int,
) -> dict[str, Any] | None:
    """`--warmup` seconds of the same load before the measured run, on nights 120 days
    later (their own): every API worker's caches and pool connections warm, so 1 and 2
    workers compare in their steady state rather than by how many cold loads each pays."""
    seconds = getattr(args, "warmup", 0)
    if not seconds:
        return None
    later = first + timedelta(days=120)
    day = int(datetime(later.year, later.month, later.day, tzinfo=UTC).timestamp())
    warm_args = argparse.Namespace(**{**vars(args), "duration": seconds, "profile": None})
    warm = run_wrk(warm_args, base, script, {**env, "RENTBOOK_WRK_FIRST_DAY": str(day)}, server_pid)
    return {k: warm[k] for k in ("seconds", "rate_per_s", "ok_per_s", "errors")}


def _drop_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url())
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenarios", default="bookings,search")
    ap.add_argument("--duration", type=int, default=20, help="seconds of wrk per scenario")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API worker processes (bookings; search with --search-db postgres)",
    )
    ap.add_argument(
        "--search-db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="search: the embedded SQLite store, one worker (as before), or PostgreSQL + "
        "Redis with --workers API workers, as `rentbook serve` runs (bench/_search_http.py)",
    )
    ap.add_argument(
        "--search-template-db",
        default=None,
        help="search on postgres: a database kept seeded (seeded when missing); each run "
        "serves a copy of it",
    )
    ap.add_argument("--server", choices=SERVERS, default="uvicorn", help="bench/_servers.py")
    ap.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="bookings: seconds of the same load first, on later nights, not measured "
        "(warm caches and pools in every worker)",
    )
    ap.add_argument("--listings", type=int, default=500)
    ap.add_argument("--renters", type=int, default=64)
    ap.add_argument("--search-size", type=int, default=2000, help="demo listings (search)")
    ap.add_argument("--search-queries", type=int, default=2000, help="distinct query paths")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--profile", default=None, help="py-spy raw profile of the server")
    ap.add_argument("--profile-gil", action="store_true", help="py-spy --gil: CPU, not waits")
    ap.add_argument(
        "--search-template",
        default=None,
        help="search: a directory keeping the seeded data; later runs copy it instead of "
        "seeding again (same --search-size)",
    )
    ap.add_argument(
        "--memory-report",
        choices=("off", "on", "tracemalloc"),
        default="off",
        help="search: the server's memory by mapping, malloc, caches (tracemalloc: also "
        "Python allocations, traced from start-up; slows the server)",
    )
    ap.add_argument(
        "--mail-backlog",
        choices=("drain", "keep"),
        default="drain",
        help="search: send the seed's ~1 welcome mail per listing before the server starts "
        "(drain, bench/_mail_backlog.py), or leave them to the server's job queue during "
        "the run (keep, as before 2026-12-06d)",
    )
    ap.add_argument(
        "--settle",
        action="store_true",
        help="search: wait until the server idles (start-up work done) before measuring",
    )
    ap.add_argument(
        "--server-cpus",
        default=None,
        help="search: pin the server's threads to these cores (e.g. 0), bench/_threads.py",
    )
    ap.add_argument(
        "--settle-max",
        type=float,
        default=90.0,
        help="search: the longest --settle waits (seconds); a 100k template's ~1,800 seeded "
        "holds expire at the server's start once the template is 15 min old, ~2 min of work",
    )
    args = ap.parse_args()
    args.memory_report = None if args.memory_report == "off" else args.memory_report
    if not shutil.which(args.wrk):
        sys.exit("wrk not found: apt-get install -y wrk (or scripts/setup.sh bench)")
    out: dict[str, Any] = {"benchmark": "http_wrk", "machine": machine(), "params": vars(args)}
    with tempfile.TemporaryDirectory(prefix="rentbook_bench_wrk_") as tmp:
        for name in filter(None, args.scenarios.split(",")):
            work = Path(tmp) / name
            work.mkdir()
            if args.memory_report:  # the search server inherits these
                os.environ["RENTBOOK_BENCH_MEMORY_REPORT"] = str(work / "memory.json")
                if args.memory_report == "tracemalloc":
                    os.environ["PYTHONTRACEMALLOC"] = "3"  # frames: past importlib
            if name == "me":  # the bookings server and renters, GET /users/me
                out[name] = bench_bookings(args, work, "me.lua")
                continue
            if name == "search":
                out[name] = bench_search(args, work, run_wrk, stop)
                continue
            out[name] = bench_bookings(args, work)
    out["targets"] = targets(out)
    print(json.dumps(out, indent=2))


def targets(out: dict[str, Any]) -> dict[str, bool]:
    """Issue #9's, for what this measures."""
    met: dict[str, bool] = {}
    if b := out.get("bookings"):
        met["bookings_ok_per_s_ge_1000"] = b["ok_per_s"] >= 1000
        met["bookings_p95_lt_100ms"] = b["p95_ms"] < 100
        met["bookings_p99_lt_150ms"] = b["p99_ms"] < 150
        met["bookings_server_cpu_le_1_5ms"] = b["server_cpu_ms_per_request"] <= 1.5
        met["bookings_no_errors"] = not b["errors"]
    if s := out.get("search"):
        met["search_ok_per_s_ge_2000"] = s["ok_per_s"] >= 2000
        met["search_p95_lt_60ms"] = s["p95_ms"] < 60
    for name in ("bookings", "search", "me"):
        if r := out.get(name):
            met[f"{name}_load_generator_lt_0_2ms"] = r["load_generator_cpu_ms_per_request"] < 0.2
    return met


if __name__ == "__main__":
    main()
