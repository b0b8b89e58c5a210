"""Commands answer from the aggregates they just saved, not from a reload.

A command endpoint saves, then builds its answer from the same aggregate (`bookings.get`
after `bookings.place`). Inside `answering_from_saves()` (one HTTP request), the event store
keeps what `record` saved and `load` returns a copy of it instead of reading and replaying
the stream again: the answer shows the state at the command's own position, the one
`X-Rentbook-Position` names. A save that conflicts empties the scope, so a retry loads
fresh state. Outside a scope (background workers, the CLI) every load reads the store.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

# One dict per request, shared by the copies of the context its threads run in.
_saved: ContextVar[dict[UUID, Any] | None] = ContextVar("rentbook_saved", default=None)


@contextmanager
def answering_from_saves() -> Iterator[None]:
    token = _saved.set({})
    try:
        yield
    finally:
        _saved.reset(token)


def remember(aggregates: Iterable[Any]) -> None:
    saved = _saved.get()
    if saved is not None:
        saved.update((a.id, a) for a in aggregates if a is not None)


def forget_all() -> None:
    saved = _saved.get()
    if saved:
        saved.clear()


def recall(aggregate_id: UUID) -> Any | None:
    """A copy (the caller may act on it) of what this scope saved under that id."""
    found = peek(aggregate_id)
    return copy.deepcopy(found) if found is not None else None


def peek(aggregate_id: UUID) -> Any | None:
    """What this scope saved under that id, itself: to read (an answer), never to change.
    The copy `recall` makes of a booking is ~40 µs, on every command's answer."""
    saved = _saved.get()
    return saved.get(aggregate_id) if saved else None
