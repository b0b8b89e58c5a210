"""Time travel for admins: an aggregate as it was after a version, or as of an instant,
replayed from its own stream. One place for the rule "as of an instant" (the last event
recorded at or before it) that the admin API, the admin pages and `rentbook admin state`
all answer with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from application.store import EventStore
from domain.errors import NotFoundError


def utc(instant: datetime) -> datetime:
    """Naive instants are UTC (the store records UTC)."""
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def version_at(store: EventStore, stream_id: UUID, at: datetime) -> int | None:
    """The stream's last version recorded at or before `at`; None when it had none yet."""
    at, found = utc(at), None
    for event in store.events.get(stream_id):
        if utc(event.timestamp) > at:  # type: ignore[attr-defined]
            break
        found = event.originator_version
    return found


def state_at(
    store: EventStore, stream_id: UUID, *, version: int | None = None, at: datetime | None = None
) -> Any:
    """The aggregate after `version`, or as of the instant `at`, or now. NotFoundError
    when there is no such stream, it did not exist yet at `at`, or has no such version."""
    head = list(store.events.get(stream_id, desc=True, limit=1))
    if not head:
        raise NotFoundError("stream_not_found", f"no stream {stream_id}")
    if at is not None:
        version = version_at(store, stream_id, at)
        if version is None:
            raise NotFoundError("no_state_then", f"{stream_id} did not exist at {utc(at)}")
    if version is not None and version > head[0].originator_version:
        raise NotFoundError("version_not_found", f"{stream_id} has no version {version}")
    return store.repository.get(stream_id, version=version)
