"""The cyclic garbage collector paused while a page is applied.

A rebuild page decodes thousands of events and builds rows for every view, all alive until
the page commits: each full collection rescans them (and the rest of the heap), a quarter of
a rebuild's CPU in the py-spy profile. Nothing a page makes needs the cycle collector:
reference counting frees it when the page is done. Pauses nest and may overlap across
threads (a rebuild beside the follower): the collector is back once the last one ends,
if it was on before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
