#!/usr/bin/env python
"""The group committer's own CPU per member, without a database (issue #9, task BK).

`--threads` threads each submit `--saves` one-event saves of streams of their own to one
`GroupCommitter` whose write sleeps `--write-ms` (a round trip: the GIL is released, the
others queue), as placements do under load. Reports the process CPU per member (the
threads' submit, queueing, leading, waking and being woken; the fake write costs ~nothing),
members per group, and wall time. Prints one JSON object.

To compare with another commit, run this script with that worktree first on PYTHONPATH:
  PYTHONPATH=/work/wt/base python bench/group_latch.py --repeat 5
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import Any

from eventsourcing.persistence import StoredEvent

import application.group_commit as group_commit
from application.group_commit import GroupCommitter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine


def one_run(threads: int, saves: int, write_ms: float) -> dict[str, Any]:
    counter = iter(range(1, 10**9))
    lock = threading.Lock()

    def write(events: Sequence[StoredEvent]) -> Sequence[int]:
        time.sleep(write_ms / 1000)
        with lock:
            return [next(counter) for _ in events]

    committer = GroupCommitter(write)
    start = threading.Barrier(threads + 1)

    def run() -> None:
        stream = uuid.uuid4()
        start.wait()
        for version in range(1, saves + 1):
            committer.submit([StoredEvent(stream, version, "t", b"{}")])

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for w in workers:
        w.join()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "cpu_us_per_member": round(cpu / committer.members * 1e6, 2),
        "members_per_group": round(committer.members / committer.groups, 2),
        "members_per_s": round(committer.members / wall, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=40)
    ap.add_argument("--saves", type=int, default=200, help="per thread")
    ap.add_argument("--write-ms", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    runs = [one_run(args.threads, args.saves, args.write_ms) for _ in range(args.repeat)]
    out = {
        "benchmark": "group_latch",
        "code": group_commit.__file__,
        "machine": machine(),
        "params": vars(args),
        "runs": runs,
        "median_cpu_us_per_member": median(r["cpu_us_per_member"] for r in runs),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
