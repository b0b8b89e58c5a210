"""The fixed per-request costs of observability, in-process: CPU per access line and per span
while no tracer provider is set. Prints one JSON object.

  access_line_<format>_us  `interfaces.http.boundary._access_line` for a POST under a work
                           scope, logging through the real configuration (`configure_logging`,
                           JSON and console) to /dev/null: the record, the formatter, the write.
  span_without_provider_us `infrastructure.tracing.span` entered and left with tracing off
                           (no OTLP endpoint), as every unconfigured process runs it.

Each figure is the best of `--rounds` rounds of process CPU (`time.process_time`) per call, so
other load on the machine moves it little. Run before/after back to back.

Run:  .venv/bin/python bench/log_line.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from application.work_scope import work_scope
from infrastructure.settings import Settings
from infrastructure.structured_logging import configure_logging
from infrastructure.tracing import span
from interfaces.http.boundary import _access_line


def _best_us(call: Callable[[], None], calls: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            call()
        best = min(best, (time.process_time() - started) / calls)
    return round(best * 1e6, 2)


def _one_span() -> None:
    with span("bench"):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000, help="per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    out: dict[str, object] = {"benchmark": "log_line", "params": vars(args)}
    with open(os.devnull, "w") as sink:
        for log_format in ("json", "console"):
            configure_logging(Settings(log_format=log_format, environment="test"), sink)
            with work_scope(request_id="r-1", correlation_id="r-1"):
                line = lambda: _access_line("POST", "/api/v1/bookings", 201, time.perf_counter())  # noqa: E731
                out[f"access_line_{log_format}_us"] = _best_us(line, args.calls, args.rounds)
    out["span_without_provider_us"] = _best_us(_one_span, args.calls * 10, args.rounds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
