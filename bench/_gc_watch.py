"""The cyclic collector's pauses while a block runs (several blocks may add up)."""

from __future__ import annotations

import gc
import time
from typing import Any


class GcWatch:
    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, dict[str, float]]:
        """Per generation: collections, their total and longest pause in ms."""
        out: dict[str, dict[str, float]] = {}
        for generation in sorted({g for g, _ in self.pauses}):
            ms = [s * 1000 for g, s in self.pauses if g == generation]
            out[str(generation)] = {
                "n": len(ms),
                "sum_ms": round(sum(ms), 2),
                "max_ms": round(max(ms), 2),
            }
        return out
