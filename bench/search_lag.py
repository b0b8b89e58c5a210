#!/usr/bin/env python
"""Search index lag after a write. Prints one JSON object.

With the projection runner and the index syncer running in this process (as `rentbook
project` or `rentbook serve --background` run them), each sample approves a new listing through
the use case and times, from the moment the command returned, until
- `view`: the search documents view has processed the approval's position, and
- `index`: the syncer has recorded that the index applied it (what `X-Rentbook-Min-Position`
  waits for on /search/listings), the listing then being checked with `SearchIndex.get`.
Samples are spaced by a random pause so they fall anywhere in a polling cycle. Backends:
`sqlite` (embedded default, file databases) and `postgres` (events, views and the embedded
PostgreSQL search; `RENTBOOK_BENCH_PG_URL`).

Run:  .venv/bin/python bench/search_lag.py --samples 60
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CpuMeter, latency_summary, machine, temporary_database, verified_owner

from application.context import Actor, command_context
from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from tests.builders import listing_spec

TARGET_P95_MS = 50.0


def measure(settings: Settings, samples: int) -> dict[str, Any]:
    container = build_container(settings, time_cost=1, memory_cost=64, parallelism=1)
    syncer = container.search_syncer
    assert syncer is not None and container.search is not None
    container.runner.start()
    container.start_search_sync()
    admin = Actor(uuid.uuid4(), "admin")
    owner = verified_owner(container.store, datetime.now(UTC))
    view_lags: list[float] = []
    index_lags: list[float] = []
    missing = timeouts = 0
    cpu = CpuMeter()
    try:
        time.sleep(1.0)  # settings applied, first pass done
        cpu.start()
        for _ in range(samples):
            now = datetime.now(UTC)
            with command_context(owner):
                listing_id, _ = container.listings.create(owner, listing_spec(), now)
                container.listings.submit(owner, listing_id, now)
            time.sleep(random.uniform(0, 0.6))
            with command_context(admin):
                position = container.listings.approve(admin, listing_id, now)
            t0 = time.perf_counter()
            if not container.runner.wait_for(position, ["search_documents"], 5):
                timeouts += 1
                continue
            view_lags.append(time.perf_counter() - t0)
            if not syncer.applied.wait_for(position, 5):
                timeouts += 1
                continue
            index_lags.append(time.perf_counter() - t0)
            missing += container.search.get(str(listing_id)) is None
        used = cpu.stop()
    finally:
        container.close()
    index = {"count": len(index_lags), **latency_summary(index_lags)}
    return {
        "view": {"count": len(view_lags), **latency_summary(view_lags)},
        "index": index,
        "timeouts": timeouts,
        "missing_after_applied": missing,
        "cpu": used,
        "p95_below_50ms": index["p95_ms"] < TARGET_P95_MS and not timeouts and not missing,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--samples", type=int, default=60)
    ap.add_argument("--backends", default="sqlite,postgres")
    args = ap.parse_args()
    out: dict[str, Any] = {"benchmark": "search_lag", "machine": machine(), "params": vars(args)}
    for backend in args.backends.split(","):
        with ExitStack() as stack:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            settings = Settings(environment="test", data_dir=data_dir, workers_in_process=False)
            if backend == "postgres":
                url = stack.enter_context(temporary_database("rentbook_bench_lag"))
                settings = Settings(
                    environment="test", data_dir=data_dir, database_url=url,
                    workers_in_process=False,
                )  # fmt: skip
            out[backend] = measure(settings, args.samples)
    out["targets"] = {
        f"{b}_index_p95_below_50ms": out[b]["p95_below_50ms"] for b in args.backends.split(",")
    }
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
