"""Random version-4 UUIDs from a buffer of `os.urandom` bytes (issue #9).

`uuid.uuid4()` is one `os.urandom(16)` call, and that releases the GIL: under load the
calling thread then waits for the event loop to hand it back (`uuid4` was ~4% of POST
/bookings' wall-time samples). Here one call fills 256 ids' worth of bytes, handed out 16 at
a time: the same source (the OS's CSPRNG), the same RFC 4122 version and variant bits, ids no
less unpredictable. A forked child draws a fresh buffer, so it never repeats its parent's.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from uuid import UUID

IDS_PER_FILL = 256
_SIZE = 16


class CountedDraws:
    """Random material drawn once and numbered draws from it, `limit` per material: spent
    material is drawn again, and `renew` (a forked child must not repeat its parent's)
    draws it at once. Thread-safe: the material and its counter are one state, read at once,
    and `next()` on an `itertools.count` is atomic under the GIL. Also the AEAD nonces'
    (infrastructure/aead_nonces.py)."""

    def __init__(self, material: Callable[[], bytes], limit: int) -> None:
        self._material = material
        self._limit = limit
        self._lock = threading.Lock()
        self.renew()

    def renew(self) -> None:
        self._state = (self._material(), itertools.count())

    def draw(self) -> tuple[bytes, int]:
        """The current material and this draw's number, below `limit`."""
        material, counter = self._state
        n = next(counter)
        if n < self._limit:
            return material, n
        with self._lock:  # spent: one caller renews, the others use that
            if self._state[1] is counter:
                self.renew()
        return self.draw()


class RandomIds:
    def __init__(self, per_fill: int = IDS_PER_FILL) -> None:
        self._draws = CountedDraws(lambda: os.urandom(_SIZE * per_fill), per_fill)

    def refill(self) -> None:
        self._draws.renew()

    def uuid4(self) -> UUID:
        buffer, i = self._draws.draw()
        return UUID(bytes=buffer[_SIZE * i : _SIZE * (i + 1)], version=4)


_IDS = RandomIds()
os.register_at_fork(after_in_child=_IDS.refill)


def uuid4() -> UUID:
    """A random version-4 UUID, as `uuid.uuid4()`."""
    return _IDS.uuid4()
