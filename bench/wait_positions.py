#!/usr/bin/env python
"""Read-your-writes waits in a process that does not follow the views (an API worker with
the projector elsewhere): latency of `wait_for` and what the waiting costs. Prints JSON.

One PostgreSQL database; a mover process (this script with `--mover`) follows two small
views (the runner tests' `ItemsView` and `NamesView`), woken by LISTEN/NOTIFY. Here, for
each `--waiters` count in turn, that many threads each record one event and wait for the
items view to include it (what a client sending `X-Rentbook-Min-Position` after its command
gets), for `--seconds`. Reported per round: waits, latency percentiles, reads of
`projection_tracking` per wait, this process's CPU-ms per wait and our PostgreSQL backends'.
Compare code with `PYTHONPATH=<worktree>` (the script itself needs nothing new). Where the
runner has `positions_moved` (task RW), this process LISTENs to the mover's page notices on
the API worker's stream-notices connection, as `Container.start_stream_notices` wires it.

Run:  .venv/bin/python bench/wait_positions.py --waiters 1,16 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import latency_summary, machine, temporary_database
from _pg_backends import BackendCpu
from sqlalchemy import event

from infrastructure.eventstore import build_event_store, views_url
from infrastructure.settings import Settings
from infrastructure.stream_notices import stream_notice_listener
from infrastructure.views_db import create_views_engine
from projections import runner as runner_module
from projections.runner import ProjectionRunner
from tests.projections.helpers import ItemsView, NamesView, record_items


def _parts(url: str) -> tuple[Any, Any, ProjectionRunner]:
    settings = Settings(environment="test", database_url=url, data_dir=Path("/tmp/rentbook-rp"))
    store = build_event_store(settings)
    engine = create_views_engine(views_url(settings), pool_size=20)
    runner = ProjectionRunner(store, engine, [ItemsView(), NamesView()])
    runner.setup()
    return store, engine, runner


def mover(url: str) -> None:
    store, engine, runner = _parts(url)
    with runner:
        print("ready", flush=True)
        sys.stdin.read()  # until the parent closes the pipe
    store.close()
    engine.dispose()


def round_of(
    store: Any, engine: Any, runner: ProjectionRunner, waiters: int, seconds: float, url: str
) -> dict[str, Any]:
    reads = [0]

    def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if "projection_tracking" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads[0] += 1

    latencies: list[float] = []
    failed = [0]
    stop = time.monotonic() + seconds

    def waiter() -> None:
        while time.monotonic() < stop:
            record_items(store, 1, changes=0)
            position = store.current_position()
            t0 = time.perf_counter()
            ok = runner.wait_for(position, ["items"], timeout=10)
            latencies.append(time.perf_counter() - t0)
            failed[0] += not ok

    shared = getattr(runner, "shared_reads", None)
    notices0 = shared.notices if shared is not None else 0
    backends = BackendCpu(url)
    backends.start()
    event.listen(engine, "before_cursor_execute", count)
    cpu0 = time.process_time()
    threads = [threading.Thread(target=waiter) for _ in range(waiters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu = time.process_time() - cpu0
    event.remove(engine, "before_cursor_execute", count)
    pg = backends.stop()
    n = max(1, len(latencies))
    return {
        "waiters": waiters,
        "waits": len(latencies),
        "timeouts": failed[0],
        "latency_ms": latency_summary(latencies),
        "tracking_reads_per_wait": round(reads[0] / n, 2),
        "position_notices_per_wait": round(
            ((shared.notices if shared is not None else 0) - notices0) / n, 2
        ),
        "cpu_ms_per_wait": round(cpu * 1000 / n, 3),
        "pg_backends_cpu_ms_per_wait": round(pg * 1000 / n, 3),
        "note": "this process's CPU includes recording the event",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waiters", default="1,16")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--mover", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mover:
        mover(args.mover)
        return
    result: dict[str, Any] = {"machine": machine(), "code": runner_module.__file__, "rounds": []}
    with temporary_database("rentbook_rp_wait") as url:
        store, engine, runner = _parts(url)
        child = subprocess.Popen(
            [sys.executable, __file__, "--mover", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        moved = getattr(runner, "positions_moved", None)
        listener = stream_notice_listener(store, moved) if moved else None
        if listener is not None:
            listener.start()
        result["position_notices"] = listener is not None
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            for waiters in [int(w) for w in args.waiters.split(",")]:
                result["rounds"].append(round_of(store, engine, runner, waiters, args.seconds, url))
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(30)
            if listener is not None:
                listener.stop()
            store.close()
            engine.dispose()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
