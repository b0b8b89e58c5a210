#!/usr/bin/env python
"""Search over HTTP on the embedded backend with demo data. Prints one JSON object.

For each size (default 10,000 and 100,000 listings), in a fresh data directory (SQLite, the
default) or a fresh PostgreSQL database (`--backend postgres`):

  seed          `seed_demo` through the use cases (listings/s), then the views caught up
  index_build   `IndexSyncer.rebuild`: every document pushed to the embedded index (docs/s)
  queries       a deterministic mix of text (with typos), filter, geo and dated searches from
                `--clients` (64) concurrent asyncio httpx clients against uvicorn serving
                `create_app` in a subprocess (workers in-process, as `rentbook serve` runs);
                p50/p95/p99 overall and per kind, client-side
  lag           a renter books an instant listing over HTTP; both sides measured from the
                booking's answer: `dated_search` until a dated search (HTTP, no min-position
                header) stops returning it — what users see, bounded by the availability view
                thanks to the re-check — and `index` until the index document itself carries
                the booked nights (the syncer's lag)

Run:  .venv/bin/python bench/search.py                         (10k then 100k)
      .venv/bin/python bench/search.py --sizes 2000 --queries 500   (smoke run)
      .venv/bin/python bench/search.py --backend postgres --sizes 10000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, CpuMeter, latency_summary, machine, summary, temporary_database
from _search_queries import API, query_mix, run_queries
from _servers import server_cmd, wait_healthy

from application.demo import DEMO_PASSWORD, seed_demo
from application.demo_places import demo_cities
from application.search_sync import EPOCH_ORDINAL
from infrastructure.bootstrap import build_container
from infrastructure.places_offline import shared_places
from infrastructure.search_wiring import build_search_index
from infrastructure.settings import Settings
from infrastructure.views_db import create_views_engine

CHEAP_ARGON2: dict[str, Any] = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}
TARGET_P95_MS = {10_000: 20.0, 100_000: 50.0}


# -- data ----------------------------------------------------------------------------------


@contextlib.contextmanager
def backend_settings(backend: str, keep: bool) -> Iterator[Settings]:
    if backend == "postgres":
        with (
            temporary_database("rentbook_bench_search", keep=keep) as url,
            tempfile.TemporaryDirectory() as tmp,
        ):
            yield Settings(
                environment="test",
                database_url=url,
                data_dir=Path(tmp),
                postgres_pool_size=4,
                postgres_max_overflow=4,
            )
    else:
        tmp = tempfile.mkdtemp(prefix="rentbook_bench_search_")
        try:
            yield Settings(environment="test", data_dir=Path(tmp))
        finally:
            if not keep:
                shutil.rmtree(tmp, ignore_errors=True)


def seed(settings: Settings, size: int) -> tuple[dict[str, Any], dict[str, Any]]:
    container = build_container(settings, **CHEAP_ARGON2)
    try:
        container.places.load()
        t0 = time.perf_counter()
        made = seed_demo(
            container.identity,
            container.listings,
            container.bookings,
            count=size,
            at=container.clock.now(),
            places=container.places,
        )
        seeded = time.perf_counter() - t0
        events = container.store.current_position()
        t0 = time.perf_counter()
        container.runner.catch_up()
        views = time.perf_counter() - t0
        assert container.search_syncer is not None and container.search is not None
        container.search.ensure_settings()  # rebuild() clears first: the tables must exist
        t0 = time.perf_counter()
        docs = container.search_syncer.rebuild(container.clock.now().astimezone(UTC).date())
        build = time.perf_counter() - t0
    finally:
        container.close()
    return (
        {
            "listings": made.listings,
            "bookings": made.bookings,
            "events": events,
            "seconds": round(seeded, 2),
            "listings_per_s": round(size / seeded, 1),
            "views_catch_up_s": round(views, 2),
            "views_events_per_s": round(events / views, 1),
        },
        {
            "documents": docs,
            "seconds": round(build, 2),
            "documents_per_s": round(docs / build, 1),
            "how": "IndexSyncer.rebuild: clear, settings, every row of the search_documents "
            "view pushed in batches of 500",
        },
    )


# -- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, port: int, server: str = "uvicorn") -> subprocess.Popen[bytes]:

    env = dict(os.environ)
    env.update(
        {
            "RENTBOOK_ENVIRONMENT": "test",
            "RENTBOOK_DATABASE_URL": settings.database_url or "",
            "RENTBOOK_DATA_DIR": str(settings.data_dir),
            "RENTBOOK_WORKERS_IN_PROCESS": "true",  # projections and the index syncer
            "RENTBOOK_POSTGRES_POOL_SIZE": "8",
            "RENTBOOK_POSTGRES_MAX_OVERFLOW": "8",
        }
    )
    env.setdefault("MALLOC_ARENA_MAX", "2")  # as the Dockerfile deploys it
    env.pop("RENTBOOK_REDIS_URL", None)
    env.pop("RENTBOOK_MEILISEARCH_URL", None)
    cmd = server_cmd(server, "bench._http_app:app", port, 1, coalesce=False)
    return wait_healthy(subprocess.Popen(cmd, cwd=ROOT, env=env), port, server, 120)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- lag -----------------------------------------------------------------------------------


def measure_lag(base: str, settings: Settings, samples: int) -> dict[str, Any]:
    """Books instant nightly listings over HTTP; times until a dated search drops each one
    and until its index document carries the booked nights."""
    import httpx

    engine = create_views_engine(_views_url(settings))
    index = build_search_index(settings, engine)
    client = httpx.Client(base_url=base, timeout=30)
    try:
        r = client.post(
            f"{API}/auth/login",
            json={"email": "renter@rentbook.example", "password": DEMO_PASSWORD},
        )
        r.raise_for_status()
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        today = datetime.now(UTC).date()
        candidates = client.get(
            f"{API}/search/listings",
            params={"category": "stay", "instant_book": "true", "limit": 100, "sort": "newest"},
        ).json()["data"]
        search_lag: list[float] = []
        index_lag: list[float] = []
        failures: Counter[str] = Counter()
        for n, hit in enumerate(candidates[:samples]):
            start = today + timedelta(days=150 + 3 * n)
            period = {"start": start.isoformat(), "end": (start + timedelta(days=2)).isoformat()}
            geo = hit["_geo"]
            box = f"{geo['lng'] - 1e-4},{geo['lat'] - 1e-4},{geo['lng'] + 1e-4},{geo['lat'] + 1e-4}"
            params = {**period, "bbox": box, "limit": 100}

            def listed(params: dict[str, Any] = params, hit_id: str = hit["id"]) -> bool:
                found = client.get(f"{API}/search/listings", params=params).json()["data"]
                return any(h["id"] == hit_id for h in found)

            if not listed():
                failures["not listed before booking"] += 1
                continue
            body = {"listing_id": hit["id"], **period, "quantity": 1, "guests": 1}
            r = client.post(f"{API}/bookings", json=body, headers=auth)
            answered = time.perf_counter()
            if r.status_code != 201:
                failures[f"booking {r.status_code}"] += 1
                continue
            day = start.toordinal() - EPOCH_ORDINAL
            seen_search = seen_index = None
            while time.perf_counter() - answered < 10 and None in (seen_search, seen_index):
                if seen_search is None and not listed():
                    seen_search = time.perf_counter() - answered
                doc = index.get(hit["id"]) if seen_index is None else None
                if doc is not None and day in doc["blocked_nights"]:
                    seen_index = time.perf_counter() - answered
                time.sleep(0.002)
            if seen_search is None or seen_index is None:
                failures["not seen in 10 s"] += 1
                continue
            search_lag.append(seen_search)
            index_lag.append(seen_index)
    finally:
        client.close()
        engine.dispose()
    return {
        "samples": len(search_lag),
        "dated_search": latency_summary(search_lag),
        "index": latency_summary(index_lag),
        "failures": dict(failures),
        "note": "from the booking's 201 answer; polled every ~2 ms plus one search request",
    }


def _views_url(settings: Settings) -> str:
    from infrastructure.eventstore import views_url

    return views_url(settings)


# -- one size ------------------------------------------------------------------------------


def bench_size(args: argparse.Namespace, size: int) -> dict[str, Any]:
    with backend_settings(args.backend, args.keep_db) as settings:
        seeded, build = seed(settings, size)
        cities = demo_cities(shared_places(), max(1, min(size, 2_000)))
        queries = query_mix(cities, args.queries)
        port = free_port()
        proc = start_server(settings, port)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(run_queries(base, query_mix(cities, args.warmup, seed_=3), args.clients))
            cpu = CpuMeter(server_pid=proc.pid)
            cpu.start()
            run = asyncio.run(run_queries(base, queries, args.clients))
            cpu_used = cpu.stop()
            lag = measure_lag(base, settings, args.lag_samples)
        finally:
            stop_server(proc)
    everything = [v for values in run["by_kind"].values() for v in values]
    overall = summary(
        everything,
        run["seconds"],
        sum(run["errors"].values()),
        clients=args.clients,
        error_kinds=run["errors"],
        cpu=cpu_used,
    )
    kinds = {
        kind: {
            "count": len(values),
            "with_hits": run["hits"][kind],
            **latency_summary(values),
        }
        for kind, values in sorted(run["by_kind"].items())
    }
    target = TARGET_P95_MS.get(size)
    return {
        "listings": size,
        "seed": seeded,
        "index_build": build,
        "queries": {**overall, "by_kind": kinds},
        "lag": lag,
        "target_p95_ms": target,
        "p95_met": None if target is None else overall["p95_ms"] < target,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated listing counts")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--queries", type=int, default=4_000, help="measured queries per size")
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--lag-samples", type=int, default=20)
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args()
    result: dict[str, Any] = {
        "benchmark": "search",
        "backend": f"embedded {args.backend}",
        "server": "uvicorn in a subprocess, 1 worker, create_app(settings) with projections "
        "and the index syncer in-process (as `rentbook serve`), rate limits off",
        "machine": machine(),
        "runs": [],
    }
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        run = bench_size(args, size)
        run["wall_s"] = round(time.perf_counter() - started, 1)
        result["runs"].append(run)
        print(json.dumps(run), file=sys.stderr)  # progress, in case a later size fails
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
