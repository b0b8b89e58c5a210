"""Shared benchmark helpers: a throwaway PostgreSQL database, latency summaries, CPU
accounting from /proc, and a thread pool load loop. Not a test helper; benchmarks only."""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import platform
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def pg_admin_url() -> str:
    return os.environ.get("RENTBOOK_BENCH_PG_URL", DEFAULT_PG_URL)


def redis_url() -> str:
    return os.environ.get("RENTBOOK_BENCH_REDIS_URL", DEFAULT_REDIS_URL)


def with_db(url: str, dbname: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + dbname


@contextlib.contextmanager
def temporary_database(prefix: str = "rentbook_bench", keep: bool = False) -> Iterator[str]:
    """Creates `<prefix>_<random>` next to RENTBOOK_BENCH_PG_URL and drops it afterwards."""
    admin = pg_admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_db(admin, name)
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 when empty)."""
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def latency_summary(latencies_s: list[float]) -> dict[str, float]:
    values = sorted(latencies_s)
    ms = [v * 1000 for v in values]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(ms[-1], 2) if ms else 0.0,
        "mean_ms": round(sum(ms) / len(ms), 2) if ms else 0.0,
    }


def summary(latencies_s: list[float], seconds: float, errors: int, **extra: Any) -> dict[str, Any]:
    count = len(latencies_s)
    return {
        "count": count,
        "seconds": round(seconds, 3),
        "rate_per_s": round(count / seconds, 1) if seconds > 0 else 0.0,
        **latency_summary(latencies_s),
        "errors": errors,
        **extra,
    }


# -- CPU accounting ------------------------------------------------------------------------

_CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> tuple[str, int, float] | None:
    """(comm, ppid, cpu seconds) of a process, from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    ppid = int(fields[1])
    utime, stime = int(fields[11]), int(fields[12])
    return comm, ppid, (utime + stime) / _CLK


def _all_procs() -> dict[int, tuple[str, int, float]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _proc_stat(int(entry))
            if st is not None:
                out[int(entry)] = st
    return out


def process_tree(pid: int, procs: dict[int, tuple[str, int, float]]) -> set[int]:
    """`pid` and all its descendants among `procs` (uvicorn's parent and its workers)."""
    tree, changed = {pid}, True
    while changed:
        changed = False
        for child, (_, ppid, _) in procs.items():
            if ppid in tree and child not in tree:
                tree.add(child)
                changed = True
    return tree


class CpuMeter:
    """CPU seconds spent by this process, a process tree (the server) and PostgreSQL backends
    between `start()` and `stop()`. Linux only; zeros elsewhere."""

    def __init__(self, server_pid: int | None = None) -> None:
        self.server_pid = server_pid
        self._t0 = 0.0
        self._wall0 = 0.0
        self._before: dict[str, float] = {}

    def _sample(self) -> dict[str, float]:
        if not Path("/proc/self/stat").exists():
            return {}
        procs = _all_procs()
        sample = {"this_process": time.process_time(), "postgres": 0.0, "server": 0.0}
        tree = process_tree(self.server_pid, procs) if self.server_pid else set()
        for pid, (comm, _, cpu) in procs.items():
            if pid in tree:
                sample["server"] += cpu
            elif comm.startswith("postgres"):
                sample["postgres"] += cpu
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            values = [int(v) for v in fields]
            idle = values[3] + values[4]
            sample["machine_busy"] = (sum(values[:8]) - idle) / _CLK
        except OSError:
            pass
        return sample

    def start(self) -> None:
        self._wall0 = time.perf_counter()
        self._before = self._sample()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self._wall0
        after = self._sample()
        result = {
            f"{k}_cpu_s": round(after[k] - self._before.get(k, 0.0), 2)
            for k in after
            if k != "server" or self.server_pid
        }
        if "machine_busy" in after:
            ours = sum(
                result.get(f"{k}_cpu_s", 0.0) for k in ("this_process", "postgres", "server")
            )
            # Everything else on the machine (other test runs share these cores).
            result["other_processes_cpu_s"] = round(result["machine_busy_cpu_s"] - ours, 2)
        result["wall_s"] = round(wall, 2)
        return result


# -- thread load loop ----------------------------------------------------------------------


def run_threads(
    threads: int,
    total: int,
    op: Callable[[int], Any],
    *,
    expected_errors: tuple[type[BaseException], ...] = (),
) -> dict[str, Any]:
    """Runs `op(i)` for i in range(total) from `threads` threads (each pulls the next i),
    timing every call. Returns latencies, wall seconds and error counts by type."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    barrier = threading.Barrier(threads + 1)

    def worker() -> None:
        local: list[float] = []
        local_errors: Counter[str] = Counter()
        barrier.wait()
        while True:
            i = next(counter)
            if i >= total:
                break
            t0 = time.perf_counter()
            try:
                op(i)
            except expected_errors as exc:  # counted, not timed as successes
                local_errors[type(exc).__name__] += 1
                continue
            except Exception as exc:
                local_errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
                continue
            local.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(local)
            errors.update(local_errors)

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - t0
    return {"latencies": latencies, "seconds": seconds, "errors": dict(errors)}


def machine() -> dict[str, Any]:
    pg_version = ""
    with contextlib.suppress(Exception), psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        pg_version = row[0] if row else ""
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "postgres": pg_version,
    }


def verified_owner(store: Any, at: Any) -> Any:
    """An owner whose account exists with a verified email (only such owners submit
    listings); recorded straight through the domain, with no password hashing to time.
    The owner role is granted here, not by the first listing: threads creating several
    first listings of one owner at once would conflict on the user."""
    from application.context import Actor
    from domain.user import User

    user = User.register(f"owner-{uuid.uuid4().hex[:12]}@bench.example", "Owner", None, "-", at)
    user.verify_email(None, at)
    user.grant_role("owner", by=user.id, at=at)
    store.record(user)
    return Actor(user.id, "user")
