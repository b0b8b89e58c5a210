"""CPU of the PostgreSQL backends serving one database, between `start()` and `stop()`.

`CpuMeter` sums every postgres process on the machine, so other people's queries (and other
benches) land in its figure; this one reads only the backends `pg_stat_activity` shows on
our database (Linux /proc, same host). A backend that exits in between loses its share: the
benches' pools keep theirs open for the run.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

_CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK  # utime + stime


class BackendCpu:
    def __init__(self, url: str) -> None:
        self.url = url
        self._before: dict[int, float] = {}

    def _sample(self) -> dict[int, float]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            pids = [
                int(r[0])
                for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        return {pid: cpu for pid in pids if (cpu := _cpu(pid)) is not None}

    def start(self) -> None:
        self._before = self._sample()

    def stop(self) -> float:
        """CPU seconds our database's backends used since `start()`."""
        after = self._sample()
        return round(sum(cpu - self._before.get(pid, 0.0) for pid, cpu in after.items()), 2)
