#!/usr/bin/env python
"""The HTTP layer's own CPU per request, without a network or a load generator. Prints one
JSON object.

`create_app(container)` on the embedded default (SQLite in a temporary directory, no
workers), driven as uvicorn drives it: an ASGI `http` scope, `receive` and `send` awaited
in one event loop, `--concurrency` requests in flight. Per request kind, CPU of this
process (every thread: the event loop and the thread pool sync endpoints run in) per
request and the wall rate:

  health     GET /api/v1/health: no auth, no store; almost all of it is the HTTP layer
             (middlewares, routing, dependencies, the access line, serialisation).
  me         GET /api/v1/users/me with a bearer token: plus a session lookup and a user read.
  not_found  GET /api/v1/nope: a 404 problem response.
  booking    GET /api/v1/bookings/{id}: the renter reading a booking (a path parameter).

Logs go, as JSON, to /dev/null through the real configuration (`configure_logging`), so the
access line is paid as in production. Run before/after back to back: CPU per request is the
figure to compare; the wall rate follows the machine's load.

Run:  .venv/bin/python bench/http_layer.py --requests 3000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _booking_setup import create_listings

from application.context import Actor, command_context
from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from infrastructure.structured_logging import configure_logging
from interfaces.http.app import create_app

PASSWORD = "correct horse battery"


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip


async def _one(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(_scope(path, headers), receive, send)
    return status


async def _run(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], count: int, concurrency: int
) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    queue = iter(range(count))

    async def client() -> None:
        for _ in queue:
            status = await _one(app, path, headers)
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(client() for _ in range(min(50, count))))  # warm-up round
    statuses.clear()
    queue = iter(range(count))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "requests": count,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "cpu_ms_per_request": round(1000 * cpu / count, 3),
        "rate_per_s": round(count / wall, 1),
    }


def _booking(container: Any, renter_id: Any) -> str:
    [listing_id] = create_listings(container, 1, 1)
    renter, day = Actor(renter_id, "user"), datetime.now(UTC).date() + timedelta(days=30)
    with command_context(renter):
        booking_id, _ = container.bookings.place(
            renter,
            listing_id,
            start=day.isoformat(),
            end=(day + timedelta(days=1)).isoformat(),
            quantity=1,
            guests=1,
            at=datetime.now(UTC),
        )
    return str(booking_id)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=3000, help="per request kind")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--kinds", default="health,me,not_found")
    args = ap.parse_args()
    out: dict[str, Any] = {
        "benchmark": "http_layer",
        "params": vars(args),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="rentbook_bench_layer_") as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp), workers_in_process=False)
        devnull = open(os.devnull, "w")  # noqa: SIM115 - closed below
        configure_logging(settings.model_copy(update={"log_format": "json"}), devnull)
        container = build_container(settings, time_cost=1, memory_cost=64, parallelism=1)
        try:
            app = create_app(container, settings, rate_limits={"*": None})
            now = datetime.now(UTC)
            user_id, _ = container.identity.register(
                "bench@layer.example", PASSWORD, "Bench", at=now
            )
            session, _, _ = container.identity.login("bench@layer.example", PASSWORD, at=now)
            bearer = [(b"authorization", f"Bearer {session.token}".encode())]
            paths = {
                "health": ("/api/v1/health", []),
                "me": ("/api/v1/users/me", bearer),
                "not_found": ("/api/v1/nope", []),
            }
            if "booking" in args.kinds:
                paths["booking"] = (f"/api/v1/bookings/{_booking(container, user_id)}", bearer)
            for kind in filter(None, args.kinds.split(",")):
                path, headers = paths[kind]
                out[kind] = asyncio.run(_run(app, path, headers, args.requests, args.concurrency))
        finally:
            container.close()
            devnull.close()
    out["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
