"""Two trees' versions of a module timed side by side in one process (`mapper_decode.py`,
`light_decode.py`): the other tree's module is loaded from its file, and the two are run
alternately every round, so the machine's load hits both alike."""

from __future__ import annotations

import argparse
import gc
import importlib.util
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any


def arguments() -> argparse.Namespace:
    """`--base` (the other tree), `--seed-events` (the seed log's size) and `--rounds`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="the other tree")
    parser.add_argument("--seed-events", type=int, default=8000)
    parser.add_argument("--rounds", type=int, default=30)
    return parser.parse_args()


def load_module(path: Path, name: str) -> ModuleType:
    """The module in `path` under `name` (its own imports resolve in this tree)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def alternate(
    runs: Mapping[str, Mapping[str, Callable[[], Any]]], sizes: Mapping[str, int], rounds: int
) -> dict[str, Any]:
    """µs of CPU per event of each side's run of each page (`runs[side][page]`, a page of
    `sizes[page]` events), the median of `rounds`, the sides' order swapped every round."""
    sides = list(runs)
    times: dict[str, dict[str, list[float]]] = {p: {s: [] for s in sides} for p in sizes}
    for r in range(rounds):
        order = sides if r % 2 else sides[::-1]
        for page, size in sizes.items():
            for side in order:
                gc.collect()  # a full collection lands in either run otherwise (8,000 events)
                t = time.process_time()
                runs[side][page]()
                times[page][side].append((time.process_time() - t) / size * 1e6)
    out: dict[str, Any] = {
        page: {side: round(sorted(v)[len(v) // 2], 2) for side, v in by.items()}
        for page, by in times.items()
    }
    out["events"] = dict(sizes)
    return out
