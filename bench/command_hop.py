#!/usr/bin/env python
"""The command-thread hop's CPU (issue #9, task BK): `run_in_command_thread` of a call
that does nothing but release the GIL once (`time.sleep(0)`, as a command's first query
would), from `--tasks` concurrent tasks on uvloop (what uvicorn runs), `--hops` each.
Reports the process CPU per hop (the loop's submit and wake-up, the thread's take and
hand-back) and hops per second. Prints one JSON object.

To compare with another commit, run this script with that worktree first on PYTHONPATH:
  PYTHONPATH=/work/wt/base python bench/command_hop.py --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

import uvloop

import interfaces.http.offload as offload
from interfaces.http.offload import run_in_command_thread

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine


def _call() -> None:
    time.sleep(0)


async def one_run(tasks: int, hops: int) -> dict[str, Any]:
    async def task() -> None:
        for _ in range(hops):
            await run_in_command_thread(_call)

    await asyncio.gather(*(task() for _ in range(tasks)))  # warm: threads started
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(task() for _ in range(tasks)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n = tasks * hops
    return {"cpu_us_per_hop": round(cpu / n * 1e6, 2), "hops_per_s": round(n / wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tasks", type=int, default=64)
    ap.add_argument("--hops", type=int, default=200, help="per task")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    runs = [uvloop.run(one_run(args.tasks, args.hops)) for _ in range(args.repeat)]
    out = {
        "benchmark": "command_hop",
        "code": offload.__file__,
        "machine": machine(),
        "params": vars(args),
        "runs": runs,
        "median_cpu_us_per_hop": median(r["cpu_us_per_hop"] for r in runs),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
