"""The HTTP booking benchmark (c) once per API worker count, in the same run: throughput,
latency, server CPU per request and server RSS for 1 vs 2 workers, with the machine's load
average around each row (the machine is shared: a loaded row's absolute figures mean less
than the ratio)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

RunHttp = Callable[[int, date], dict[str, Any]]  # (workers, first night) -> c_http result


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (Linux /proc)."""
    parents: dict[int, int] = {}
    rss_kb: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss_kb[int(entry)] = int(line.split()[1])
    tree, changed = {pid}, True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                changed = True
    return round(sum(rss_kb.get(p, 0) for p in tree) / 1024, 1)


def _per_request_ms(cpu: dict[str, float], key: str, count: int) -> float | None:
    value = cpu.get(key)
    return round(value * 1000 / count, 2) if value is not None and count else None


def row(workers: int, result: dict[str, Any], load_before: list[float]) -> dict[str, Any]:
    cpu: dict[str, float] = result.get("cpu") or {}
    count = int(result.get("count", 0))
    return {
        "workers": workers,
        "count": count,
        "rate_per_s": result.get("rate_per_s"),
        "p50_ms": result.get("p50_ms"),
        "p95_ms": result.get("p95_ms"),
        "p99_ms": result.get("p99_ms"),
        "errors": result.get("errors"),
        "server_cpu_ms_per_request": _per_request_ms(cpu, "server_cpu_s", count),
        "load_generator_cpu_ms_per_request": _per_request_ms(cpu, "this_process_cpu_s", count),
        "postgres_cpu_ms_per_request": _per_request_ms(cpu, "postgres_cpu_s", count),
        "other_processes_cpu_s": cpu.get("other_processes_cpu_s"),
        "rss_mb": result.get("rss_mb"),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def compare_workers(run_http: RunHttp, counts: list[int], first: date) -> dict[str, Any]:
    """Runs c for each worker count on nights of its own (so no row collides with another's
    bookings); returns the rows and the last row over the first."""
    rows = []
    for i, workers in enumerate(counts):
        load_before = [round(x, 2) for x in os.getloadavg()]
        result = run_http(workers, first + timedelta(days=30 * i))
        rows.append(row(workers, result, load_before))
    return {"rows": rows, "ratio": ratios(rows)}


def ratios(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if len(rows) < 2:
        return {}
    first, last = rows[0], rows[-1]

    def over(key: str) -> float | None:
        a, b = last.get(key), first.get(key)
        return round(a / b, 3) if a and b else None

    name = f"{last['workers']}_over_{first['workers']}"
    return {
        f"rate_{name}": over("rate_per_s"),
        f"p95_{name}": over("p95_ms"),
        f"server_cpu_per_request_{name}": over("server_cpu_ms_per_request"),
        f"rss_{name}": over("rss_mb"),
    }
