#!/usr/bin/env python
"""Task RB: would a standard-library pool do the command-thread hop as cheaply as
`CommandThreads`? Runs bench/command_hop.py's measurement with `offload.COMMANDS` replaced
by `--pool`: `commands` (the hand-written pool, as shipped) or `executor` (a
ThreadPoolExecutor of the same size whose work item settles the caller's asyncio future on
its loop, as `CommandThreads` does, so no `wrap_future` chaining: what remains is the
executor's own work item, concurrent Future and idle Semaphore). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median
from typing import Any

import uvloop

import interfaces.http.offload as offload

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine
from command_hop import one_run


class ExecutorThreads:
    """`CommandThreads.submit` over a ThreadPoolExecutor."""

    def __init__(self, size: int) -> None:
        self.executor = ThreadPoolExecutor(size, thread_name_prefix="rb-hop")

    def submit(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        context: contextvars.Context,
        call: Callable[[], Any],
    ) -> None:
        def run() -> None:
            try:
                ok, outcome = True, context.run(call)
            except BaseException as exc:
                ok, outcome = False, exc
            loop.call_soon_threadsafe(offload._settle, future, ok, outcome)

        self.executor.submit(run)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pool", choices=["commands", "executor"], default="executor")
    ap.add_argument("--tasks", type=int, default=64)
    ap.add_argument("--hops", type=int, default=200, help="per task")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if args.pool == "executor":
        offload.COMMANDS = ExecutorThreads(offload.COMMAND_THREADS)  # type: ignore[assignment]
    runs = [uvloop.run(one_run(args.tasks, args.hops)) for _ in range(args.repeat)]
    print(
        json.dumps(
            {
                "benchmark": "command_hop_stdlib",
                "machine": machine(),
                "params": vars(args),
                "runs": runs,
                "median_cpu_us_per_hop": median(r["cpu_us_per_hop"] for r in runs),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
