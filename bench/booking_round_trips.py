#!/usr/bin/env python
"""SQL statements and round trips per `POST /api/v1/bookings`, from libpq's own traces of
the server's connections (bench/_sql_trace.py). Prints one JSON object.

The server and load are http_wrk.py's `bookings` scenario (wrk, `--connections` clients);
the messages the server's connections exchanged during wrk's run, divided by its responses,
are the per-request figures. Start-up, health checks and set-up are outside the window.
Tracing costs CPU: this counts, it does not time.

Run:  .venv/bin/python bench/booking_round_trips.py --duration 5 --connections 16
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _sql_trace
import http_wrk


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--listings", type=int, default=200)
    ap.add_argument("--renters", type=int, default=32)
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    args = ap.parse_args()
    args.keep_db, args.profile, args.profile_gil = False, None, False
    out: dict[str, Any] = {"benchmark": "booking_round_trips", "params": vars(args)}
    with tempfile.TemporaryDirectory(prefix="rentbook_bench_trace_") as tmp:
        traces = Path(tmp) / "traces"
        traces.mkdir()
        os.environ[_sql_trace.ENV] = str(traces)  # the server inherits it
        run_wrk = http_wrk.run_wrk
        window: dict[str, Any] = {}

        def counted_run(*a: Any, **kw: Any) -> dict[str, Any]:
            before = _sql_trace.counts(traces)
            result = run_wrk(*a, **kw)
            window.update(before=before, after=_sql_trace.counts(traces))
            return result

        http_wrk.run_wrk = counted_run
        work = Path(tmp) / "bookings"
        work.mkdir()
        result = http_wrk.bench_bookings(args, work)
    requests = result["requests"]
    delta = window["after"] - window["before"]
    out["requests"] = requests
    out["errors"] = result["errors"]
    out["per_request"] = {k: round(v / requests, 3) for k, v in sorted(delta.items())}
    out["totals"] = dict(sorted(delta.items(), key=lambda kv: -kv[1]))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
