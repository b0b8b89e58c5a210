"""What a bench server's resident memory is, read from outside it (/proc), and its own
report on SIGUSR1 (bench/_memory_report.py). Used by http_wrk.py."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any


def rss_detail(pid: int, data_dir: Path) -> dict[str, Any]:
    """What the server's resident memory is: anonymous (heaps, caches) or file pages (the
    SQLite files mmapped by read connections), and the database files' sizes, in MB."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM")
    out: dict[str, Any] = {
        line.split(":")[0]: round(int(line.split()[1]) / 1024, 1)
        for line in status
        if line.split(":")[0] in fields
    }
    out["db_files_mb"] = {
        p.name: round(p.stat().st_size / 2**20, 1) for p in sorted(data_dir.glob("*.db*"))
    }
    out["db_mappings_mb"] = db_mappings(pid)
    return out


def db_mappings(pid: int) -> dict[str, list[float]]:
    """Resident MB of each mapping of a database file (one per connection that mmaps it),
    largest first: every connection's mmap counts its touched pages again."""
    out: dict[str, list[float]] = {}
    name = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and len(head) >= 5:  # a mapping's header line
            name = Path(head[5]).name if len(head) > 5 and ".db" in head[5] else None
        elif name and head[0] == "Rss:":
            out.setdefault(name, []).append(round(int(head[1]) / 1024, 1))
    return {k: sorted(v, reverse=True) for k, v in out.items()}


def memory_report(pid: int, path: Path) -> Any:
    """The server's own account of its memory (bench/_memory_report.py), on SIGUSR1."""
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 300  # a tracemalloc snapshot takes minutes under load
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    return json.loads(path.read_text()) if path.exists() else None
