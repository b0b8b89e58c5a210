"""Where a bench server's memory is: written on SIGUSR1 when RENTBOOK_BENCH_MEMORY_REPORT
names a file (bench only; `http_wrk.py --memory-report`).

The report splits resident memory by mapping (`/proc/self/smaps`), shows what glibc malloc
holds against what is in use (`mallinfo2`), SQLite's own allocator, the threads, and — when
the server runs with PYTHONTRACEMALLOC (tracing from the first import) — Python and numpy
allocations by file and by line.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import os
import signal
import sys
import threading
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

MB = 2**20


def install(app: Any) -> None:
    target = os.environ.get("RENTBOOK_BENCH_MEMORY_REPORT")
    if not target:
        return
    # a thread, not the handler, writes: the handler may run in the middle of anything
    wanted = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: wanted.set())

    def writer() -> None:
        while True:
            wanted.wait()
            wanted.clear()
            tmp = Path(target + ".tmp")
            tmp.write_text(json.dumps(report(getattr(app.state, "container", None)), indent=1))
            tmp.replace(target)

    threading.Thread(target=writer, name="memory-report", daemon=True).start()


def report(container: Any = None) -> dict[str, Any]:
    gc.collect()  # no gc.get_objects(): it hands out tuples other threads are still building
    return {
        "status": _status(),
        "smaps_by_mapping": _smaps(),
        "malloc": _mallinfo2(),
        "sqlite_memory_mb": _sqlite_memory(),
        "threads": [t.name for t in threading.enumerate()],
        "modules": len(sys.modules),
        "thread_stacks": _stacks(),
        "caches": _caches(container) if container is not None else None,
        "tracemalloc": _traced() if tracemalloc.is_tracing() else None,
    }


def _caches(container: Any) -> list[dict[str, Any]]:
    """The column stores, answer caches and aggregate caches reachable from the container
    (a few levels of attributes deep)."""
    out: list[dict[str, Any]] = []
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > 4:
            return
        seen.add(id(obj))
        kind = type(obj).__name__
        if kind == "ColumnStore":
            out.append({"kind": kind, "generation": str(obj.generation), "mb": obj.nbytes() / MB})
        elif kind == "AnswerCache":
            out.append({"kind": kind, "entries": len(obj._entries), "size": obj._size})
        elif kind == "AggregateCache":
            out.append({"kind": kind, "entries": len(obj), "mb": obj.bytes / MB})
        for value in list(getattr(obj, "__dict__", {}).values()):
            if hasattr(value, "__dict__") and not isinstance(value, type):
                walk(value, depth + 1)

    walk(container, 0)
    return out


def _stacks() -> dict[str, float]:
    """Thread stacks: glibc maps 8 MiB plus a guard page per thread; resident is what the
    deepest call so far touched."""
    sizes: list[float] = []
    size = 0
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and not head[0].endswith(":"):
            lo, hi = (int(x, 16) for x in head[0].split("-"))
            size = hi - lo
        elif head[0] == "Rss:" and size == 8 * MB:
            sizes.append(int(head[1]) / 1024)
    return {
        "count": len(sizes),
        "rss_mb": round(sum(sizes), 1),
        "max_mb": round(max(sizes, default=0), 2),
    }


def _status() -> dict[str, float]:
    keep = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads")
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in keep:
            out[key] = int(value.split()[0]) / (1 if key == "Threads" else 1024)
    return out


def _smaps() -> list[dict[str, Any]]:
    """Rss and Anonymous per mapped file; anonymous mappings grouped by size class (glibc
    arenas are 64 MB reservations, thread stacks 8 MB, numpy/malloc mmaps anything)."""
    sums: dict[str, list[float]] = {}
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and not head[0].endswith(":"):
            lo, hi = (int(x, 16) for x in head[0].split("-"))
            path = head[5] if len(head) > 5 else ""
            if path.startswith("/"):
                name = path.split("/site-packages/")[-1]
            else:
                name = f"{path or '[anon]'} {_size_class(hi - lo)}"
            sums.setdefault(name, [0.0, 0.0, 0])
            sums[name][2] += 1
        elif head[0] in ("Rss:", "Anonymous:"):
            sums[name][0 if head[0] == "Rss:" else 1] += int(head[1]) / 1024
    rows = [
        {"mapping": k, "rss_mb": round(v[0], 1), "anon_mb": round(v[1], 1), "count": v[2]}
        for k, v in sums.items()
        if v[0] >= 0.5
    ]
    return sorted(rows, key=lambda r: -r["rss_mb"])


def _size_class(size: int) -> str:
    for limit, label in ((132 * 1024, "<=128K"), (MB, "<=1M"), (9 * MB, "<=8M+")):
        if size <= limit:
            return label
    return ">8M"


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (n, ctypes.c_size_t)
        for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _mallinfo2() -> dict[str, float] | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return None
    m = libc.mallinfo2()  # main arena plus the others, as glibc sums them
    return {
        "heap_total_mb": round(m.arena / MB, 1),  # sbrk + arena heaps, non-mmapped
        "in_use_mb": round(m.uordblks / MB, 1),
        "free_mb": round(m.fordblks / MB, 1),
        "mmapped_mb": round(m.hblkhd / MB, 1),  # big blocks, each its own mmap
        "top_releasable_mb": round(m.keepcost / MB, 1),
    }


def _sqlite_memory() -> dict[str, float] | None:
    import sqlite3

    name = ctypes.util.find_library("sqlite3")
    if not name:
        return None
    lib = ctypes.CDLL(name)  # the library _sqlite3 already loaded
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    lib.sqlite3_memory_highwater.restype = ctypes.c_int64
    return {
        "version": sqlite3.sqlite_version,
        "used_mb": round(lib.sqlite3_memory_used() / MB, 1),
        "highwater_mb": round(lib.sqlite3_memory_highwater(0) / MB, 1),
    }


def _traced() -> dict[str, Any]:
    """Allocations by the first frame outside importlib and the stdlib (with
    PYTHONTRACEMALLOC=N frames; with 1 frame, module code is all importlib's)."""
    snap = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    by_line: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    for stat in snap.statistics("traceback"):  # grouped in C: far fewer than the traces
        frame = next((f for f in stat.traceback if _ours(f.filename)), stat.traceback[0])
        by_line[f"{_short(frame.filename)}:{frame.lineno}"] += stat.size
        by_package[_package(frame.filename)] += stat.size
    return {
        "traced_mb": round(current / MB, 1),
        "peak_mb": round(peak / MB, 1),
        "by_package_mb": [(k, round(v / MB, 1)) for k, v in by_package.most_common(40)],
        "by_line_mb": [(k, round(v / MB, 2)) for k, v in by_line.most_common(50)],
    }


def _ours(filename: str) -> bool:
    return not filename.startswith("<frozen") and (
        "/site-packages/" in filename or "/lib/python" not in filename
    )


def _short(filename: str) -> str:
    return filename.split("/site-packages/")[-1].split("/rentbook/")[-1].split("/wt/rss/")[-1]


def _package(filename: str) -> str:
    if "/site-packages/" in filename:
        return filename.split("/site-packages/")[1].split("/")[0]
    for layer in ("domain", "application", "projections", "infrastructure", "interfaces", "bench"):
        if f"/{layer}/" in filename:
            return f"{layer}/" + filename.split(f"/{layer}/")[1]
    return "stdlib" if "/lib/python" in filename else filename
