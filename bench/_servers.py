"""The command line that runs a bench server under uvicorn or granian (`--server`).

uvicorn runs as `rentbook serve` does (httptools, our one-`send` protocol, loop "auto" =
uvloop, no access line of its own). granian (a Rust HTTP server with an ASGI interface) runs
the same factory with uvloop, HTTP/1 only, no websockets and no access line: the app writes
its own. granian always serves from a spawned worker process, so the bench meters the whole
process tree (`CpuMeter` does) and waits for the worker, not the parent, to idle. granian is
not a project dependency (it did not pay: bench/README.md, task H, 20261206g): `pip install
'granian>=2,<3'` to use it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from _common import ROOT

from interfaces.http.coalesced_writes import UVICORN_HTTP

if TYPE_CHECKING:
    from infrastructure.settings import Settings

SERVERS = ("uvicorn", "granian")


def server_cmd(server: str, factory: str, port: int, workers: int, *, coalesce: bool) -> list[str]:
    """`coalesce`: uvicorn with our one-`send` protocol (the bookings server), else its
    default httptools protocol (the search server, as before)."""
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", factory,
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--loop", "uvloop", "--http", "1", "--no-ws", "--log-level", "warning",
            "--no-access-log",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "--factory", factory,
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "60",
        *(["--http", UVICORN_HTTP] if coalesce else []),
    ]  # fmt: skip


def serving_pid(pid: int) -> int:
    """The process answering requests: granian's (only) worker, else `pid` itself."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        found = children.read_text().split()
    except OSError:
        return pid
    return int(found[0]) if len(found) == 1 else pid


def start_api_server(
    settings: Settings,
    port: int,
    workers: int,
    server: str,
    healthy_s: float,
    more: Mapping[str, str] | None = None,
    drop: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """bench/_http_app.py served as `rentbook serve` runs its API workers on `settings`'
    store (PostgreSQL + Redis), once healthy: uvicorn with our one-`send` protocol, or
    granian. `more` settings on top of the shared ones; `drop` names left out of the env."""
    env = dict(os.environ)
    env.update(
        {
            "RENTBOOK_ENVIRONMENT": "test",
            "RENTBOOK_DATABASE_URL": settings.database_url or "",
            "RENTBOOK_REDIS_URL": settings.redis_url or "",
            "RENTBOOK_REDIS_KEY_PREFIX": settings.redis_key_prefix,
            "RENTBOOK_DATA_DIR": str(settings.data_dir),
            "RENTBOOK_WORKERS_IN_PROCESS": "false",  # serve's API workers never run them
            # as `rentbook serve` tells the workers it spawns (the views pool's overflow
            # defaults by it: infrastructure/views_db.py `views_overflow`)
            "RENTBOOK_API_WORKERS": str(workers),
            **(more or {}),
        }
    )
    env.setdefault("MALLOC_ARENA_MAX", "2")  # as the Dockerfile deploys it
    for name in drop:
        env.pop(name, None)
    cmd = server_cmd(server, "bench._http_app:app", port, workers, coalesce=True)
    return wait_healthy(subprocess.Popen(cmd, cwd=ROOT, env=env), port, server, healthy_s)


def wait_healthy(
    proc: subprocess.Popen[bytes], port: int, server: str, seconds: float
) -> subprocess.Popen[bytes]:
    """`proc` once its GET /health answers 200; stopped (`give_up`) and raised if it exits
    or does not answer within `seconds`."""
    import httpx  # the benches' clients import it; the servers' command lines need not

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{server} exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    give_up(proc)
    raise RuntimeError(f"{server} did not become healthy in {seconds:.0f} s")


def give_up(proc: subprocess.Popen[bytes]) -> None:
    """Stops a server that never became healthy: SIGTERM first, since granian's parent stops
    its worker on it, while a SIGKILL would leave the worker serving, orphaned."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
