"""The command line that runs a bench server under uvicorn or granian (`--server`).

uvicorn runs as `rentbook serve` does (httptools, our one-`send` protocol, loop "auto" =
uvloop, no access line of its own). granian (a Rust HTTP server with an ASGI interface) runs
the same factory with uvloop, HTTP/1 only, no websockets and no access line: the app writes
its own. granian always serves from a spawned worker process, so the bench meters the whole
process tree (`CpuMeter` does) and waits for the worker, not the parent, to idle. granian is
not a project dependency (it did not pay: bench/README.md, task H, 20261206g): `pip install
'granian>=2,<3'` to use it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from interfaces.http.coalesced_writes import UVICORN_HTTP

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
