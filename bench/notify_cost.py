#!/usr/bin/env python
"""What the projector's page NOTIFY (task RW) costs: N small transactions (one UPDATE, the
size of a tracking advance) with and without `NOTIFY rentbook_positions`, alternating, on a
temporary PostgreSQL database with one LISTENer. Prints JSON: client CPU and wall per
transaction each way; the difference is the NOTIFY's cost per page.

Run:  .venv/bin/python bench/notify_cost.py --transactions 2000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, temporary_database


def _run(conn: Any, n: int, notify: bool) -> tuple[float, float]:
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(n):
        with conn.transaction():
            conn.execute("UPDATE t SET position = %s WHERE name = 'v'", (i,))
            if notify:
                conn.execute("NOTIFY rentbook_positions")
    return (time.process_time() - cpu0) * 1000 / n, (time.perf_counter() - t0) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with (
        temporary_database("rentbook_rw_notify") as url,
        psycopg.connect(url, autocommit=True) as conn,
        psycopg.connect(url) as listener,
    ):
        listener.execute("LISTEN rentbook_positions")
        listener.commit()
        conn.execute("CREATE TABLE t (name text PRIMARY KEY, position bigint)")
        conn.execute("INSERT INTO t VALUES ('v', 0)")
        for _ in range(args.pairs):
            for notify in (False, True):
                cpu, wall = _run(conn, args.transactions, notify)
                rows.append({"notify": notify, "client_cpu_ms": cpu, "wall_ms": wall})
                list(listener.notifies(timeout=0.5))  # drain
    print(json.dumps({"machine": machine(), "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
