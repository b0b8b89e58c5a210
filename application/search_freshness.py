"""How far the search index has got, for read-your-writes.

The index syncer pushes the search documents view into the index and, once the index has
confirmed a whole pass (for Meilisearch: every task of it succeeded), records the view's log
position read before that pass: every change at or below it is searchable. A query carrying
`X-Rentbook-Min-Position` waits here for that position, woken by the syncer when it runs in
this process, else by polling the recorded value (another process runs it) and, where the
infrastructure offers one (PostgreSQL LISTEN/NOTIFY), by that process's announcement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class AppliedPosition:
    def __init__(self, load: Callable[[], int], poll_interval: float = 0.05) -> None:
        self._load = load  # the recorded value, moved by whichever process runs the syncer
        self._poll = poll_interval
        self._value = 0
        self._changed = threading.Condition()
        self.local = False  # a syncer runs in this process and advances us directly
        # Set by the infrastructure: tell other processes (`recorded`), and start hearing
        # them on the first wait here (`subscribe`).
        self.announce: Callable[[int], None] | None = None
        self.subscribe: Callable[[], None] | None = None
        self._subscribed = False

    @property
    def value(self) -> int:
        return self._value

    def advance(self, position: int) -> None:
        with self._changed:
            if position > self._value:
                self._value = position
                self._changed.notify_all()

    def recorded(self, position: int) -> None:
        """The syncer of this process recorded `position`."""
        moved = position > self._value
        self.advance(position)
        if moved and self.announce is not None:
            self.announce(position)

    def wait_for(self, position: int, timeout: float) -> bool:
        """True once the index reflects `position`; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        if not self.local and not self._subscribed and self.subscribe is not None:
            self._subscribed = True
            self.subscribe()
        while True:
            if self._value >= position:
                return True
            if not self.local:
                self.advance(self._load())
            remaining = deadline - time.monotonic()
            if self._value >= position:
                return True
            if remaining <= 0:
                return False
            with self._changed:
                if self._value < position:
                    self._changed.wait(remaining if self.local else min(remaining, self._poll))
