"""A server's threads over a run, from /proc (task SG, issue #9): which threads burn the CPU,
how often they switch, and pinning the server to some cores.

Quiet-machine search read ~2.7 ms CPU per query and loaded runs ~1.2 ms on the same code;
the per-thread split (event loop against the pool threads), the context switches per query
and the scheduler's run/wait times (`schedstat`) show whether the free core goes to threads
handing the GIL to each other rather than to queries."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")


def _task(path: Path) -> dict[str, Any] | None:
    try:
        stat = (path / "stat").read_text()
        status = (path / "status").read_text()
        sched = (path / "schedstat").read_text().split()
    except OSError:  # the thread ended between listing and reading
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    switches = dict(line.split(":\t") for line in status.splitlines() if "ctxt_switches" in line)
    return {
        "comm": stat[stat.index("(") + 1 : stat.rindex(")")],
        "cpu_s": (int(fields[11]) + int(fields[12])) / _TICK,
        "sys_s": int(fields[12]) / _TICK,  # the kernel's share: futex waits and wake-ups
        "run_ns": int(sched[0]),
        "wait_ns": int(sched[1]),  # runnable, waiting for a CPU
        "voluntary": int(switches["voluntary_ctxt_switches"]),
        "involuntary": int(switches["nonvoluntary_ctxt_switches"]),
    }


def snapshot(pid: int) -> dict[int, dict[str, Any]]:
    """Every thread of `pid` now, by thread id."""
    tasks = Path(f"/proc/{pid}/task")
    found = {int(t.name): _task(t) for t in tasks.iterdir()} if tasks.exists() else {}
    return {tid: task for tid, task in found.items() if task is not None}


def summary(
    before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]], requests: int, pid: int
) -> dict[str, Any]:
    """Per-request figures over the run: the main thread (the event loop) apart from the
    others (the anyio pool's threads, in-process workers), switches, and run-queue waits."""
    zero = {"cpu_s": 0.0, "sys_s": 0.0, "run_ns": 0, "wait_ns": 0, "voluntary": 0, "involuntary": 0}
    per = max(1, requests)
    keys = ("cpu_s", "sys_s", "run_ns", "wait_ns", "voluntary", "involuntary")
    deltas = {
        tid: {k: task[k] - before.get(tid, zero)[k] for k in keys} for tid, task in after.items()
    }
    busy = [d for tid, d in deltas.items() if tid != pid and d["cpu_s"] > 0]

    def totals(group: list[dict[str, Any]]) -> dict[str, float]:
        return {
            "cpu_ms_per_request": round(1000 * sum(d["cpu_s"] for d in group) / per, 3),
            "sys_cpu_ms_per_request": round(1000 * sum(d["sys_s"] for d in group) / per, 3),
            "run_ms_per_request": round(sum(d["run_ns"] for d in group) / 1e6 / per, 3),
            "runqueue_wait_ms_per_request": round(sum(d["wait_ns"] for d in group) / 1e6 / per, 3),
            "voluntary_switches_per_request": round(sum(d["voluntary"] for d in group) / per, 2),
            "involuntary_switches_per_request": round(
                sum(d["involuntary"] for d in group) / per, 2
            ),
        }

    return {
        "threads_alive": len(after),
        "threads_busy": len(busy),
        "main": totals([deltas.get(pid, zero)]),
        "others": totals(busy),
        "affinity": sorted(os.sched_getaffinity(pid)) if pid in after else None,
    }


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of `pid` (threads started later inherit their creator's mask)."""
    for tid in snapshot(pid):
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(tid, cpus)
