"""96-bit AES-GCM nonces without a system call each (issue #9).

A random nonce per sealed field was one `os.urandom` call each: cheap in itself, but it
releases the GIL, and under load the sealing thread then waits for the event loop to hand it
back (a tenth of POST /bookings' wall-time samples were `seal`). Here a nonce is the
deterministic construction of NIST SP 800-38D 8.2.1: a fixed field and an invocation field.
The fixed field is 64 random bits drawn per process (again in a forked child, and again
before the 32-bit invocation counter would wrap), so nonces never repeat within a process,
and two processes, or one before and after a restart, repeat one only if they drew the
same 64 bits (about n²/2⁶⁵ for n process lifetimes sharing keys): far below the 2⁻³² bound
NIST allows for random nonces, which this replaces.
"""

from __future__ import annotations

import os

from application.random_ids import CountedDraws

FIXED_BYTES = 8
COUNTER_BYTES = 4
COUNTER_LIMIT = 1 << (8 * COUNTER_BYTES)


class NonceSource:
    """Thread-safe: a nonce's fixed field and counter come from one draw (`CountedDraws`)."""

    def __init__(self, limit: int = COUNTER_LIMIT) -> None:
        self._draws = CountedDraws(lambda: os.urandom(FIXED_BYTES), limit)  # tests: sooner

    def renew(self) -> None:
        """A new fixed field and counter (a forked child must not repeat its parent's)."""
        self._draws.renew()

    def next(self) -> bytes:
        fixed, n = self._draws.draw()
        return fixed + n.to_bytes(COUNTER_BYTES, "big")


NONCES = NonceSource()
os.register_at_fork(after_in_child=NONCES.renew)
