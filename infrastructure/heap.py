"""The cyclic garbage collector of a serving process (issue #9).

An API worker starts with ~230k tracked objects (modules, the app and its ~400 routes,
pydantic schemas, the container) that live as long as it does, and every full collection
walked all of them: 8 full collections in 18 s of POST /bookings took 145 ms of CPU each,
and with the young collections the collector was ~12% of the server's CPU. Once the app is
up, `settle_heap` moves those objects out of the collector's sight (`gc.freeze`: reference
counting still frees them, only cycle detection skips them) and lets the young generation
grow before a collection: a request's short-lived objects are freed by reference counting,
so a larger generation is mostly found empty, and fewer of them are promoted, which is what
triggers the expensive older collections. Cycles are still collected, later.

Only for a process that serves until it exits: a test process building many apps would
freeze each one's garbage-to-be.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # CPython's default is 700 allocations


def settle_heap(young_threshold: int = YOUNG_THRESHOLD) -> None:
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
