"""`rentbook serve` as a real subprocess on a free port, for black-box tests: started in its
own session (process group), always terminated, its output kept for the assertions."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 180.0  # spawned workers import the whole app; the machine is shared


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def child_pids(self) -> set[int]:
        """The direct children of the serving process (its API workers, and any helper
        process such as multiprocessing's resource tracker)."""
        children = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    raw = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(raw[raw.rindex(")") + 2 :].split()[1]) == self.process.pid:
                    children.add(int(entry))
        return children

    def health_pids(self, want: int, attempts: int = 400) -> dict[int, dict[str, object]]:
        """`GET /health` on fresh connections until `want` distinct worker pids answered."""
        seen: dict[int, dict[str, object]] = {}
        for _ in range(attempts):
            body = httpx.get(f"{self.base_url}/health", timeout=10).json()
            seen[int(body["pid"])] = body
            if len(seen) >= want:
                break
        return seen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(args: list[str], env: Mapping[str, str], log: Path) -> Iterator[Served]:
    port = free_port()
    command = [sys.executable, "-m", "interfaces.cli.main", "serve", "--port", str(port), *args]
    # No places index built at start-up unless a test asks (`env`): most served tests never
    # ask for a city, and each API worker would spend a few CPU-seconds building it.
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "RENTBOOK_PLACES_PRELOAD": "0", **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    served = Served(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_healthy(served)
        yield served
    finally:
        _stop(process)


def _wait_healthy(served: Served) -> None:
    def healthy() -> bool:
        if served.process.poll() is not None:
            raise RuntimeError(f"serve exited with {served.process.returncode}:\n{served.output()}")
        try:
            return httpx.get(f"{served.base_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    eventually(
        healthy, "serve answering", timeout=STARTUP_SECONDS, interval=0.3, seen=served.output
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn stops its workers, then the background workers close), and the
    whole process group killed if that takes too long."""
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(30)
    with suppress(ProcessLookupError):  # the group this test started, nothing else
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
