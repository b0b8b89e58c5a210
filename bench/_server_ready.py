"""Waiting for a bench server to reach its steady state before the measured run.

`rentbook serve`'s API workers load the offline places index in a background thread at
start-up (`preload_places`): ~2 CPU-s where its file is missing and must be built (before
task R every worker built it, ~2.8 CPU-s and ~70 MB held), ~15 ms to map it otherwise.
Measured while it builds, that CPU was counted against the first requests (POST /bookings
1.40 -> 2.08 ms in one run). `places_ready` waits for it, so CPU per request is the steady
state's and RSS is what a serving worker holds."""

from __future__ import annotations

import resource
import time

import httpx
from _common import _all_procs, process_tree

PLACES_WAIT_S = 180.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def places_ready(base: str, workers: int) -> None:
    """A /places request waits on the index's lock until the preload has built it; a few
    per worker, each on a new connection, so every worker is likely asked."""
    for _ in range(4 * max(1, workers)):
        response = httpx.get(f"{base}/api/v1/places", params={"q": "lisb"}, timeout=PLACES_WAIT_S)
        response.raise_for_status()


def tree_cpu_s(pid: int) -> float | None:
    """CPU seconds of `pid` and all its descendants (uvicorn's parent and its workers)."""
    procs = _all_procs()
    if pid not in procs:
        return None
    return sum(procs[p][2] for p in process_tree(pid, procs))


def settle(pid: int, quiet_cpu_s: float = 0.05, longest_s: float = 90.0) -> dict[str, float]:
    """Waits until the server's process tree idles (< `quiet_cpu_s` CPU in a second): its
    start-up work (each worker's offline places index, the seed's welcome mails sent by the
    in-process job queue) would otherwise be counted against the first queries. Returns the
    wait and the last second's CPU."""
    t0 = time.monotonic()
    last = 0.0
    while time.monotonic() - t0 < longest_s:
        before = tree_cpu_s(pid)
        time.sleep(1.0)
        after = tree_cpu_s(pid)
        if before is None or after is None:
            break
        last = after - before
        if last < quiet_cpu_s:
            break
    return {"waited_s": round(time.monotonic() - t0, 1), "idle_cpu_s_per_s": round(last, 3)}
