"""Benchmark (c) of `booking_write.py`: `POST /api/v1/bookings` from concurrent asyncio
clients against uvicorn serving `create_app` in a separate process (`bench/_http_app.py`),
optionally profiled by py-spy."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from _booking_setup import Nights
from _common import CpuMeter, summary
from _servers import start_api_server
from _workers_compare import tree_rss_mb

from infrastructure.bootstrap import Container
from infrastructure.settings import Settings

PASSWORD = "bench-password-123"


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
    settings: Settings, port: int, workers: int, pool_size: int, server: str = "uvicorn"
) -> subprocess.Popen[bytes]:
    pool = {
        "RENTBOOK_POSTGRES_POOL_SIZE": str(pool_size),
        "RENTBOOK_POSTGRES_MAX_OVERFLOW": str(pool_size),
    }
    return start_api_server(settings, port, workers, server, 60, more=pool)


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


def _spy_format(path: str) -> str:
    """py-spy output format from the file name: .json speedscope, .svg flamegraph, else raw
    (collapsed stacks, one line per stack, for grep and sort)."""
    if path.endswith(".json"):
        return "speedscope"
    return "flamegraph" if path.endswith(".svg") else "raw"
