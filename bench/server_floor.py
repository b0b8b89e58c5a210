#!/usr/bin/env python
"""What the HTTP server alone costs per request: a bare ASGI app (one JSON response, no
framework) under uvicorn (httptools + uvloop), uvicorn with our one-`send` protocol, and
granian (asgi, uvloop, HTTP/1), each loaded by wrk at `--connections` for `--duration` s
after a 2 s warm-up; CPU of the server's process tree per request. Prints JSON lines.
granian is not a project dependency: `pip install 'granian>=2,<3'` to include it.

Run:  .venv/bin/python bench/server_floor.py --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, CpuMeter
from _server_ready import free_port
from _servers import give_up

from interfaces.http.coalesced_writes import UVICORN_HTTP

BODY = b'{"ok":true}'
HEAD = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEAD})
    await send({"type": "http.response.body", "body": BODY})


def command(server: str, port: int) -> list[str]:
    where = ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "server_floor:app", *where,
            "--loop", "uvloop", "--http", "1", "--no-ws", "--no-access-log",
        ]  # fmt: skip
    protocol = UVICORN_HTTP if server == "uvicorn-coalesced" else "httptools"
    return [
        sys.executable, "-m", "uvicorn", "server_floor:app", *where,
        "--loop", "uvloop", "--http", protocol, "--no-access-log",
    ]  # fmt: skip


def one(server: str, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{Path(__file__).parent}:{ROOT}"}
    proc = subprocess.Popen(command(server, port), env=env)
    try:
        time.sleep(4)  # started (no health route: wrk's warm-up fails loudly otherwise)
        url = f"http://127.0.0.1:{port}/"
        wrk = [args.wrk, "-t2", f"-c{args.connections}"]
        subprocess.run([*wrk, "-d2s", url], capture_output=True, check=True)
        meter = CpuMeter(server_pid=proc.pid)
        meter.start()
        out = subprocess.run([*wrk, f"-d{args.duration}s", url], capture_output=True, text=True)
        cpu = meter.stop()
    finally:
        give_up(proc)
    requests = int(next(x for x in out.stdout.splitlines() if "requests in" in x).split()[0])
    return {
        "server": server,
        "requests": requests,
        "rate_per_s": round(requests / cpu["wall_s"], 1),
        "server_cpu_us_per_request": round(1e6 * cpu["server_cpu_s"] / requests, 1),
        "other_processes_cpu_s": cpu.get("other_processes_cpu_s"),
        "load_average": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2, help="each server once per round, in turn")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--servers", default="uvicorn,granian,uvicorn-coalesced")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    args = ap.parse_args()
    for _ in range(args.rounds):
        for server in args.servers.split(","):
            print(json.dumps(one(server, args)), flush=True)


if __name__ == "__main__":
    main()
