"""Stored events handed to views that read them without decoding (`Projection.reads_stored`).

Decoding an event (JSON with typed values revived, personal envelopes opened, the domain
object built) costs more than a view such as audit spends on it: audit needs the event's
topic, stream, version, time and command context, four of them columns of the log. When the
store keeps its states as plain JSON (no cipher, no compressor, the JSON transcoder), such a
view reads the few fields it needs from the stored bytes instead. Erasures are always
decoded: decoding one forgets the subject's key and empties the runner's decoded cache.
So is every event whose class upcasts (`class_version` or an `upcast_v*` method: listings
since v2): its stored state is an older shape, and only the mapper brings it up to date.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.utils import TopicError, resolve_topic

from domain.event_meta import META_KEY
from domain.personal_data import USER_ERASED_TOPIC
from projections.event_log import EventLog


def plain_json(log: EventLog) -> bool:
    """Whether the log's stored states are JSON a view can read as it is."""
    mapper = log.mapper
    return (
        getattr(mapper, "cipher", None) is None
        and getattr(mapper, "compressor", None) is None
        and isinstance(getattr(mapper, "transcoder", None), JSONTranscoder)
    )


def to_decode(notes: Iterable[StoredEvent], topic_sets: Sequence[frozenset[str]]) -> set[int]:
    """Indexes of `notes` that views wanting these topics (an empty set: every topic) need
    decoded, and of every erasure (decoding it has effects the others rely on)."""
    if any(not topics for topics in topic_sets):
        return {i for i, _ in enumerate(notes)}
    wanted = frozenset[str]().union(*topic_sets) | {USER_ERASED_TOPIC}
    return {i for i, note in enumerate(notes) if note.topic in wanted or upcasts(note.topic)}


_upcasting: dict[str, bool] = {}


def upcasts(topic: str) -> bool:
    """Whether the event class of `topic` upcasts its stored states (remembered per topic;
    a topic that does not resolve has no upcasts: read as stored, as before this check)."""
    known = _upcasting.get(topic)
    if known is None:
        try:
            cls = resolve_topic(topic)
        except TopicError:
            known = False
        else:
            known = getattr(cls, "class_version", 1) != 1 or any(
                name.startswith("upcast_v") for name in dir(cls)
            )
        _upcasting[topic] = known
    return known


def state_of(note: StoredEvent) -> dict[str, Any]:
    """The stored state as parsed JSON: typed values stay `{"_type_", "_data_"}` objects.
    orjson, or `json` for what orjson refuses (lone surrogates, NaN); exact for strings."""
    try:
        state = orjson.loads(note.state)
    except orjson.JSONDecodeError:
        state = json.loads(note.state)
    return state if isinstance(state, dict) else {}


def timestamp_in(state: dict[str, Any]) -> datetime | None:
    """The event's `timestamp` as the stock transcoder revives it."""
    value = state.get("timestamp")
    if isinstance(value, dict) and value.get("_type_") == "datetime_iso":
        return datetime.fromisoformat(value["_data_"])
    return None


def meta_in(state: dict[str, Any]) -> dict[str, Any]:
    meta = state.get(META_KEY)
    return meta if isinstance(meta, dict) else {}


def stream_of(note: StoredEvent) -> UUID:
    oid = note.originator_id
    return oid if isinstance(oid, UUID) else UUID(str(oid))


def timestamp_of(item: object) -> datetime | None:
    """A decoded event's or a stored event's time (a tracking row's `last_event_at`)."""
    if isinstance(item, StoredEvent):
        return timestamp_in(state_of(item))
    at = getattr(item, "timestamp", None)
    return at if isinstance(at, datetime) else None


def meta_of(item: object) -> dict[str, Any]:
    """A decoded event's or a stored event's command context (read, not copied)."""
    if isinstance(item, StoredEvent):
        return meta_in(state_of(item))
    meta = getattr(item, META_KEY, None)
    return meta if isinstance(meta, dict) else {}
