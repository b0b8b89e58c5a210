"""The event store as projections read it: the notification log, its decoder and its head.

A port of the read side, so projections never import the application that writes the log;
the application's `EventStore` is one (structurally), and so is any stand-in a test makes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, StoredEvent


class EventLog(Protocol):
    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def mapper(self) -> Mapper[UUID]: ...

    def current_position(self) -> int:
        """The highest notification id recorded (0 when empty)."""
        ...

    def add_listener(self, callback: Callable[[int], None]) -> None:
        """`callback(position)` after every save in this process (wakes the runner)."""
        ...

    def remove_listener(self, callback: Callable[[int], None]) -> None: ...


def decode_page(log: EventLog, stored: Sequence[StoredEvent]) -> list[object]:
    """A page of domain events, through the mapper's page decoder when it has one (it
    fetches every key the page needs in one query rather than one per subject)."""
    many = getattr(log.mapper, "to_domain_events", None)
    if many is not None:
        return list(many(stored))
    return [log.mapper.to_domain_event(s) for s in stored]
