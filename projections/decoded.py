"""Decoded events shared by the views of one runner.

Every view follows the same log: when a save wakes them, each reads the new events and,
without this, decodes them again (decoding was a third of a catch-up's time). The runner
keeps the last `capacity` decoded events by position, so a page is decoded once for all
views that read it in step. Events are read-only to views (a rebuild already hands one
decoded page to every view). An erasure empties the cache: events decoded before it hold
the subject's opened fields, and a view reading them after it must see them erased.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from eventsourcing.persistence import Notification

from domain.personal_data import USER_ERASED_TOPIC
from projections.event_log import EventLog
from projections.light import decode_events
from projections.stored import plain_json

CAPACITY = 20_000  # a few pages of every view, a few tens of MB


class DecodedEvents:
    def __init__(self, store: EventLog, capacity: int = CAPACITY) -> None:
        self.store = store
        self.capacity = capacity
        self.plain = plain_json(store)  # views that read stored events may skip decoding
        self._events: dict[int, object] = {}  # position -> event, oldest first
        self._lock = threading.Lock()

    def decode(self, notes: Sequence[Notification]) -> list[object]:
        """The events of these notifications (each has an `id`: its position)."""
        with self._lock:
            found = {n.id: e for n in notes if (e := self._events.get(n.id)) is not None}
        missing = [n for n in notes if n.id not in found]
        if missing:
            decoded = decode_events(self.store, missing)
            erased = any(n.topic == USER_ERASED_TOPIC for n in missing)
            with self._lock:
                if erased:
                    self._events.clear()
                else:
                    for note, event in zip(missing, decoded, strict=True):
                        self._events[note.id] = event
                    self._evict()
            found.update((n.id, e) for n, e in zip(missing, decoded, strict=True))
        return [found[n.id] for n in notes]

    def forget(self) -> None:
        """Drops every decoded event (an erasure's keys are gone: they may hold its fields)."""
        with self._lock:
            self._events.clear()

    def _evict(self) -> None:
        excess = len(self._events) - self.capacity
        if excess > 0:
            for position in list(self._events)[:excess]:
                del self._events[position]
