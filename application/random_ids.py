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
from uuid import UUID

IDS_PER_FILL = 256
_SIZE = 16


class RandomIds:
    """Thread-safe: the buffer and its counter are one state, read at once, and `next()` on
    an `itertools.count` is atomic under the GIL."""

    def __init__(self, per_fill: int = IDS_PER_FILL) -> None:
        self._per_fill = per_fill
        self._lock = threading.Lock()
        self.refill()

    def refill(self) -> None:
        self._state = (os.urandom(_SIZE * self._per_fill), itertools.count())

    def uuid4(self) -> UUID:
        buffer, counter = self._state
        i = next(counter)
        if i < self._per_fill:
            return UUID(bytes=buffer[_SIZE * i : _SIZE * (i + 1)], version=4)
        with self._lock:  # spent: one caller refills, the others use that
            if self._state[1] is counter:
                self.refill()
        return self.uuid4()


_IDS = RandomIds()
os.register_at_fork(after_in_child=_IDS.refill)


def uuid4() -> UUID:
    """A random version-4 UUID, as `uuid.uuid4()`."""
    return _IDS.uuid4()
