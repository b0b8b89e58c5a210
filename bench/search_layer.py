#!/usr/bin/env python
"""CPU per `GET /api/v1/search/listings` through the whole app, without a network or a load
generator. Prints one JSON object.

`http_layer.py`'s harness (ASGI scopes awaited in one event loop, `--concurrency` requests
in flight, the access line logged as JSON to /dev/null) on a kept, seeded `--data-dir`, over
`http_wrk.py`'s search paths (search.py's query mix, each path sent once per round). It
counts what wrk runs cannot separate on a shared machine: this process's CPU (event loop,
thread pool, every thread) per request, with no background workers, so two checkouts
compare on one database. `--data-dir` is seeded (as search.py seeds, then the seed's mail
sent) when it holds no views database.

Run:  .venv/bin/python bench/search_layer.py --data-dir /tmp/s10k --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import search as search_bench
from _mail_backlog import drain
from _search_queries import API, query_mix
from sqlalchemy import event

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from infrastructure.structured_logging import configure_logging
from interfaces.http.app import create_app


def _scope(target: str) -> dict[str, Any]:
    path, _, query = target.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": query.encode(), "root_path": "", "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip


async def _one(app: Any, target: str) -> tuple[int, int]:
    status, size = 0, 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = int(message["status"])
        else:
            size += len(message.get("body", b""))

    await app(_scope(target), receive, send)
    return status, size


async def _round(app: Any, paths: list[str], concurrency: int) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    queue = iter(paths)
    size = 0

    async def client() -> None:
        nonlocal size
        for target in queue:
            status, n = await _one(app, target)
            statuses[status] = statuses.get(status, 0) + 1
            size += n

    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "requests": len(paths),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "cpu_ms_per_request": round(1000 * cpu / len(paths), 3),
        "rate_per_s": round(len(paths) / wall, 1),
        # every thread's: a GIL hand-off to a sleeping thread is a voluntary switch
        "voluntary_switches_per_request": round((after.ru_nvcsw - before.ru_nvcsw) / len(paths), 2),
        "involuntary_switches_per_request": round(
            (after.ru_nivcsw - before.ru_nivcsw) / len(paths), 2
        ),
        "mean_body_bytes": size // max(1, len(paths)),
    }


def _paths(data_dir: Path, count: int) -> list[str]:
    """search.py's mix as http_wrk.py sends it, kept with the data (the city list is slow)."""
    kept = data_dir / f"paths_{count}.txt"
    if kept.exists():
        return kept.read_text().split()
    from application.demo_places import demo_cities
    from infrastructure.places_offline import shared_places

    cities = demo_cities(shared_places(), 2_000)
    paths = [f"{API}/search/listings?{urlencode(p)}" for _, p in query_mix(cities, count)]
    kept.write_text("\n".join(paths) + "\n")
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--size", type=int, default=10_000, help="listings, when seeding")
    ap.add_argument("--queries", type=int, default=2_000, help="distinct paths per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    out: dict[str, Any] = {
        "benchmark": "search_layer",
        "params": {k: str(v) for k, v in vars(args).items()},
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    settings = Settings(environment="test", data_dir=args.data_dir, workers_in_process=False)
    if not (args.data_dir / "views.db").exists():
        args.data_dir.mkdir(parents=True, exist_ok=True)
        out["seeded"], _ = search_bench.seed(settings, args.size)
        out["mail_backlog"] = drain(settings)
    paths = _paths(args.data_dir, args.queries)
    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
    configure_logging(settings.model_copy(update={"log_format": "json"}), devnull)
    container = build_container(settings, time_cost=1, memory_cost=64, parallelism=1)
    try:
        assert container.search is not None
        container.search.columns.mode = "sync"  # type: ignore[attr-defined]
        app = create_app(container, settings, rate_limits={"*": None})

        connects = [0]  # views connections opened (the pool's overflow ones are not kept)
        event.listen(
            container.views, "connect", lambda *_: connects.__setitem__(0, connects[0] + 1)
        )

        async def run() -> list[dict[str, Any]]:
            await _round(app, paths[:300], args.concurrency)  # warm-up: store, lazy imports
            rounds = []
            for _ in range(args.rounds):
                opened = connects[0]
                rounds.append(await _round(app, paths, args.concurrency))
                rounds[-1]["views_connects"] = connects[0] - opened
            return rounds

        out["rounds"] = asyncio.run(run())
    finally:
        container.close()
        devnull.close()
        logging.shutdown()
    cpu = sorted(r["cpu_ms_per_request"] for r in out["rounds"])
    out["cpu_ms_per_request_median"] = cpu[len(cpu) // 2]
    out["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
