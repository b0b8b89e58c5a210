"""SSE fan-out: N concurrent clients (default 1,000) on one API worker, all on one listing's
`/availability/stream`; another process writes calendar blocks through the use case (on
PostgreSQL, so every delivery crosses processes through LISTEN/NOTIFY, as in production).

Prints JSON: the server's RSS before and after the clients connected (per connection), and
the fan-out latency from just before each write to its arrival at every client (p50/p95 over
all client x write pairs, and the p95 of each write's slowest client). Goal: p95 < 50 ms.

    .venv/bin/python bench/sse_fanout.py                  # 1,000 clients, 20 writes
    .venv/bin/python bench/sse_fanout.py --clients 200 --writes 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    ROOT,
    latency_summary,
    machine,
    percentile,
    temporary_database,
    verified_owner,
)

from application.context import Actor, command_context
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from tests.builders import listing_spec
from tests.e2e.served import free_port

READY, EVENT = b"event: ready", b"event: availability"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_server(url: str, data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RENTBOOK_ENVIRONMENT": "test",
        "RENTBOOK_DATABASE_URL": url,
        "RENTBOOK_DATA_DIR": str(data_dir),
        "RENTBOOK_LOG_LEVEL": "WARNING",
    }
    env.pop("RENTBOOK_REDIS_URL", None)  # without Redis: one API worker
    command = [sys.executable, "-m", "interfaces.cli.main", "serve", "--port", str(port)]
    command += ["--workers", "1", "--no-background", "--no-seed"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def active_listing(container: Container) -> Any:
    now = datetime.now(UTC)
    owner = verified_owner(container.store, now)
    admin = Actor(owner.id, "admin")
    with command_context(owner):
        listing_id, _ = container.listings.create(owner, listing_spec(quantity=1), now)
        container.listings.submit(owner, listing_id, now)
    with command_context(admin):
        container.listings.approve(admin, listing_id, now)
    return owner, listing_id


class Client:
    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self, port: int, path: str) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        seen = b""
        while READY not in seen:
            chunk = await self.reader.read(65536)
            if not chunk:
                raise ConnectionError("closed before ready")
            seen += chunk

    async def listen(self) -> None:
        assert self.reader is not None
        while chunk := await self.reader.read(65536):
            now = time.perf_counter()
            self.arrivals.extend(now for _ in range(chunk.count(EVENT)))


async def wait_http(port: int, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            if (await reader.read(100)).startswith(b"HTTP/1.1 200"):
                writer.close()
                return
        except OSError:
            pass
        await asyncio.sleep(0.3)
    raise RuntimeError("the server did not start")


async def run(
    args: argparse.Namespace, container: Container, server: Any, port: int
) -> dict[str, Any]:
    owner, listing_id = active_listing(container)
    path = f"/api/v1/listings/{listing_id}/availability/stream"
    warm = Client()
    await warm.connect(port, path)  # the worker's hub and tail exist from here on
    warm.writer.close()  # type: ignore[union-attr]
    await asyncio.sleep(0.5)
    before = rss_kib(server.pid)
    clients = [Client() for _ in range(args.clients)]
    for i in range(0, len(clients), 100):
        await asyncio.gather(*(c.connect(port, path) for c in clients[i : i + 100]))
    listeners = [asyncio.ensure_future(c.listen()) for c in clients]
    await asyncio.sleep(0.5)
    after = rss_kib(server.pid)

    loop = asyncio.get_running_loop()
    starts: list[float] = []
    saved: list[float] = []  # how long each write itself took (load, decide, commit)
    first = date.today() + timedelta(days=30)

    def write(n: int) -> None:
        day = first + timedelta(days=n)
        now = datetime.now(UTC)
        with command_context(owner):
            starts.append(time.perf_counter())
            container.listings.add_block(
                owner, listing_id, str(day), str(day + timedelta(days=1)), "", now
            )
            saved.append(time.perf_counter() - starts[-1])

    latencies: list[float] = []
    slowest: list[float] = []
    await loop.run_in_executor(None, write, args.writes)  # warm-up: not measured
    await asyncio.sleep(1.0)
    for c in clients:
        c.arrivals.clear()
    starts.clear()
    saved.clear()
    fastest: list[float] = []
    committed: list[float] = []  # from the write's commit (its return) to each client
    for n in range(args.writes):
        await loop.run_in_executor(None, write, n)
        deadline = time.monotonic() + 10
        while any(len(c.arrivals) <= n for c in clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        got = [c.arrivals[n] - starts[n] for c in clients if len(c.arrivals) > n]
        latencies.extend(got)
        committed.extend(x - saved[n] for x in got)
        slowest.append(max(got) if got else 10.0)
        fastest.append(min(got) if got else 10.0)
        await asyncio.sleep(args.pause)
    missing = sum(max(0, args.writes - len(c.arrivals)) for c in clients)
    final = rss_kib(server.pid)
    for listener in listeners:
        listener.cancel()
    for c in clients:
        c.writer.close()  # type: ignore[union-attr]
    fanout = latency_summary(latencies)
    return {
        "benchmark": "sse_fanout",
        "clients": args.clients,
        "writes": args.writes,
        "server_rss_kib": {"before_clients": before, "with_clients": after, "after_writes": final},
        "memory_per_connection_kib": round((after - before) / args.clients, 1),
        "fanout_latency": {**fanout, "deliveries": len(latencies), "missing": missing},
        "fanout_after_commit": latency_summary(committed),
        "slowest_client_per_write": latency_summary(slowest),
        "fastest_client_per_write": latency_summary(fastest),
        "write_itself": latency_summary(saved),
        "targets": {
            "fanout_p95_under_50ms": fanout["p95_ms"] < 50,
            "after_commit_p95_under_50ms": latency_summary(committed)["p95_ms"] < 50,
        },
        "machine": machine(),
        "p95_of_slowest_ms": round(percentile(sorted(x * 1000 for x in slowest), 95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between writes")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    with temporary_database("rentbook_bench_sse", keep=args.keep_db) as url:
        data_dir = Path(f"/tmp/rentbook-sse-bench-{os.getpid()}")
        data_dir.mkdir(parents=True, exist_ok=True)
        settings = Settings(environment="test", database_url=url, data_dir=data_dir)
        container = build_container(settings)
        port = free_port()
        server = start_server(url, data_dir, port, data_dir / "serve.log")
        try:
            asyncio.run(wait_http(port))
            result = asyncio.run(run(args, container, server, port))
        finally:
            server.terminate()
            server.wait(30)
            container.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
