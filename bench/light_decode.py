"""CPU per event of light events (projections/light.py): this tree's module against another
tree's (`--base`, e.g. a worktree of main), loaded side by side in one process over this
tree's event store and timed alternately, so the machine's load hits both alike.

Pages of a seed log (plaintext, as the seed stores them): the events built light, the
Booking.Placed built blind (as a rebuild of views not reading its message builds them), and
the whole log through `decode_events` (light where it may, the mapper for the rest).
Prints µs of CPU per event, the median of `--rounds`.

Run:  PYTHONPATH=. .venv/bin/python bench/light_decode.py --base /work/wt/x-base
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from _event_seed import seed_events

from projections import light

PLACED = "domain.booking:Booking.Placed"


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _runs(module: Any, log: Any, pages: dict[str, list[Any]]) -> dict[str, Callable[[], Any]]:
    blind = frozenset({PLACED})
    return {
        "built_light": lambda: [module.light_event(log, n) for n in pages["built_light"]],
        "placed_blind": lambda: [module.light_event(log, n, blind) for n in pages["placed_blind"]],
        "whole_seed_log": lambda: module.decode_events(log, pages["whole_seed_log"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="the other tree")
    parser.add_argument("--seed-events", type=int, default=8000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    log, _ = seed_events(args.seed_events, 6)
    blind = frozenset({PLACED})
    notes = log.recorder.select_notifications(start=1, limit=10**9)
    pages = {
        "built_light": [n for n in notes if light.light_event(log, n) is not None],
        "placed_blind": [
            n for n in notes if n.topic == PLACED and light.light_event(log, n, blind) is not None
        ],
        "whole_seed_log": notes,
    }
    modules = {"base": _module(args.base / "projections/light.py", "base_light"), "branch": light}
    runs = {name: _runs(module, log, pages) for name, module in modules.items()}
    for page in pages:  # the same events from both
        made = [[vars(e) for e in runs[name][page]()] for name in modules]
        assert made[0] == made[1], page
    del made
    times: dict[str, dict[str, list[float]]] = {p: {"base": [], "branch": []} for p in pages}
    for r in range(args.rounds):
        order = ["base", "branch"] if r % 2 else ["branch", "base"]
        for page, events in pages.items():
            for name in order:
                gc.collect()  # a full collection lands in either run otherwise
                t = time.process_time()
                runs[name][page]()
                times[page][name].append((time.process_time() - t) / len(events) * 1e6)
    out = {
        page: {name: round(sorted(v)[len(v) // 2], 2) for name, v in by.items()}
        for page, by in times.items()
    }
    out["events"] = {page: len(events) for page, events in pages.items()}  # type: ignore[assignment]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
