"""Light events: events built from their stored JSON without the mapper's full decode.

The application's mapper opens sealed personal fields (a key per subject, fetched for the
page), erases plaintext ones of erased subjects, upcasts older shapes and forgets a key on
an erasure. Most events carry none of that: no personal fields (`PERSONAL_EVENTS`), no
upcasts, not an erasure. For those the decoded event is the transcoder's state with the
stream's id and version set, as an instance of the event's class, and that is what a light
event is: the same object the mapper would build (same class, same `__dict__`), at about
half the cost, for every view at once (views need no change). Anything else, and any state
that might hold an envelope (`"_personal"` in the bytes, or a `\\u` escape that could spell
it), goes through the mapper as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast
from uuid import UUID
from weakref import WeakKeyDictionary

from eventsourcing.persistence import StoredEvent, find_id_convertor
from eventsourcing.utils import TopicError, resolve_topic

from domain.personal_data import PERSONAL_EVENTS, PERSONAL_SNAPSHOTS, USER_ERASED_TOPIC
from domain.stored_json import StateReader
from projections.event_log import EventLog, decode_page
from projections.stored import plain_json, upcasts

_ENVELOPE_KEY = b'"_personal"'
_SNAPSHOT_TOPIC = "eventsourcing.domain:Snapshot"
# a transcoder without a fast path of its own (the stock JSONTranscoder) -> one for it
_readers: WeakKeyDictionary[object, StateReader] = WeakKeyDictionary()

# topic -> (event class, id convertor), or None: the topic needs the mapper
_classes: dict[str, tuple[type, Any] | None] = {}


def light_class(topic: str) -> type | None:
    """The event class of a topic whose events may be built light, else None."""
    found = _light(topic)
    return found[0] if found is not None else None


def _light(topic: str) -> tuple[type, Any] | None:
    if topic in _classes:
        return _classes[topic]
    heavy = topic in PERSONAL_EVENTS or topic in (USER_ERASED_TOPIC, _SNAPSHOT_TOPIC)
    found = None if heavy or upcasts(topic) else _resolved(topic)
    _classes[topic] = found
    return found


@cache
def _resolved(topic: str) -> tuple[type, Any] | None:
    try:
        cls = resolve_topic(topic)
    except TopicError:
        return None
    return (cls, find_id_convertor(cls, UUID)) if isinstance(cls, type) else None


def blind_topics(views: Sequence[tuple[frozenset[str], frozenset[str] | None]]) -> frozenset[str]:
    """Personal topics (with top-level personal fields only) that no view of these reads
    the personal fields of: each view as (its topics, empty: all; its `reads_personal`)."""
    blind = set()
    for topic, policy in PERSONAL_EVENTS.items():
        if policy.nested or upcasts(topic):
            continue
        takers = [reads for topics, reads in views if not topics or topic in topics]
        if takers and all(reads is not None and topic not in reads for reads in takers):
            blind.add(topic)
    return frozenset(blind)


def light_event(
    log: EventLog, note: StoredEvent, blind: frozenset[str] = frozenset()
) -> object | None:
    """`note`'s event built without the mapper, or None where only the mapper builds it.
    A topic in `blind` is built with its personal fields erased (none is opened)."""
    raw = note.state
    if type(raw) is not bytes:
        return None
    try:  # `reader_of(log)` inline for the common case: a call per event cost ~1%
        reader = log.mapper.transcoder.reader  # type: ignore[attr-defined]
    except AttributeError:
        reader = reader_of(log)
    if note.topic in blind:
        return _blind_event(reader, note, raw)
    found = _light(note.topic)
    if found is None or _ENVELOPE_KEY in raw:
        return None
    state = reader.read(raw, note.topic)
    if _not_light(state):
        return None
    return _event(found, note, state)


def reader_of(log: EventLog) -> StateReader:
    """The fast path of the log's transcoder (`domain.stored_json`): light events read
    states as it does, and where it hands one over (`UNREAD`: to the stock decoder, `\\u`
    escapes among them, which could spell an envelope's key too) the mapper builds it."""
    transcoder = log.mapper.transcoder
    reader = getattr(transcoder, "reader", None)  # application's EventTranscoder has one
    if reader is None:
        reader = _readers.get(transcoder)
        if reader is None:  # plain_json: a JSONTranscoder, which has `names`
            names = transcoder.names  # type: ignore[attr-defined]
            reader = _readers[transcoder] = StateReader(names)
    return reader


def _blind_event(reader: StateReader, note: StoredEvent, raw: bytes) -> object | None:
    policy = PERSONAL_EVENTS[note.topic]
    state = reader.read(raw, note.topic)
    if _not_light(state):
        return None
    for field, erased in policy.fields.items():
        if field in state:
            state[field] = erased
    if _ENVELOPE_KEY in raw and any(_envelope(v) for v in state.values()):
        return None  # an envelope beyond the policy's fields: the mapper opens it
    found = _resolved(note.topic)
    return None if found is None else _event(found, note, state)


def _envelope(value: Any) -> bool:
    return type(value) is dict and len(value) == 1 and "_personal" in value


def _event(found: tuple[type, Any], note: StoredEvent, state: dict[str, Any]) -> object | None:
    stream = note.originator_id
    if type(stream) is not UUID:
        return None
    cls, convert = found
    state["originator_id"] = convert(stream)
    state["originator_version"] = note.originator_version
    state.pop("class_version", None)  # no upcasts: it can only be 1
    event: object = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    return event


def _not_light(state: Any) -> bool:
    """Not a state to build light from: handed over (`UNREAD`), not an object, or with a
    `state` field the mapper would treat as a personal snapshot's state."""
    if type(state) is not dict:
        return True
    inner = state.get("state")
    return isinstance(inner, dict) and state.get("topic") in PERSONAL_SNAPSHOTS


def decode_events(
    log: EventLog, stored: Sequence[StoredEvent], blind: frozenset[str] = frozenset()
) -> list[object]:
    """A page of domain events: light where the topic allows it (plain JSON states only),
    through the mapper for the rest, in the page's order. `blind`: see `light_event`."""
    if not stored or not plain_json(log):
        return decode_page(log, stored)
    events: list[object | None] = [light_event(log, note, blind) for note in stored]
    rest = [note for note, event in zip(stored, events, strict=True) if event is None]
    if rest:
        heavy = iter(decode_page(log, rest))
        events = [next(heavy) if event is None else event for event in events]
    return cast(list[object], events)
