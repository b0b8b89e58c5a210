"""A mapper that stores personal fields encrypted with their subject's key.

Writing: each field `domain/personal_data.py` lists is replaced, before the event is
transcoded, by an envelope `{"_personal": {"s": subject, "c": ciphertext, "e": erased}}`
(AES-GCM through the key ring; the additional data binds it to its stream and field).
The stored bytes, and so the hash chain, are those of the envelope: destroying the key
later never changes a stored byte, and `audit verify` stays green.

Reading: envelopes are opened before upcasting, so upcasters always see plain values; a
destroyed key gives the envelope's `erased` value ("[erased]" or null). Events stored in
plaintext by older code have no envelope and pass through as they are.
"""

from __future__ import annotations

import base64
from binascii import a2b_base64
from collections.abc import Callable, Hashable, Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from application.personal_keys import KeyRing
from domain.personal_data import PERSONAL_EVENTS, PERSONAL_SNAPSHOTS, USER_ERASED_TOPIC

ENVELOPE = "_personal"
_ENVELOPE_KEY = b'"_personal"'
Leaf = Callable[[Any, str], Any]
SNAPSHOT_TOPIC = "eventsourcing.domain:Snapshot"
SUBJECT_IDS = 20_000  # envelope subjects' ids kept (about 3 MB); emptied when full


def is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and ENVELOPE in value


class PersonalDataMapper(Mapper[UUID]):
    def __init__(self, transcoder: Transcoder, keyring: KeyRing) -> None:
        super().__init__(transcoder)
        self.keyring = keyring
        # The event transcoder's decode with the topic as a hint (application/event_transcoder)
        self._decode_as: Callable[[bytes, str], Any] | None = getattr(transcoder, "decode_as", None)
        self._subject_ids: dict[str, UUID] = {}
        self._classes: dict[tuple[str, type], tuple[type, Callable[[Any], Any], int]] = {}

    # -- writing ------------------------------------------------------------------------

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        topic = get_topic(type(domain_event))
        state = dict(vars(domain_event))
        stream = state["originator_id"]
        if topic == SNAPSHOT_TOPIC and state.get("topic") in PERSONAL_SNAPSHOTS:
            fields = PERSONAL_SNAPSHOTS[state["topic"]]
            inner = dict(state["state"])
            self._seal_fields(inner, fields, stream, stream)
            state["state"] = inner
        elif (policy := PERSONAL_EVENTS.get(topic)) is not None:
            subject = policy.subject_of(state, stream)
            if not isinstance(subject, UUID):
                return super().to_stored_event(domain_event)
            self._seal_fields(state, policy.fields, subject, stream)
            for path in policy.nested:
                state = self._seal_path(state, path, policy.nested[path], subject, stream)
        else:
            return super().to_stored_event(domain_event)
        clone = object.__new__(type(domain_event))
        object.__setattr__(clone, "__dict__", state)
        return super().to_stored_event(clone)

    def _seal_fields(
        self, state: dict[str, Any], fields: dict[str, Any], subject: UUID, stream: UUID
    ) -> None:
        for field, erased in fields.items():
            if field not in state or is_envelope(state[field]):
                continue
            plain = self.transcoder.encode(state[field])
            sealed = self.keyring.seal(subject, _aad(stream, field), plain)
            cipher = base64.b64encode(sealed).decode() if sealed is not None else None
            state[field] = {ENVELOPE: {"s": str(subject), "c": cipher, "e": erased}}

    def _seal_path(
        self, state: dict[str, Any], path: str, erased: Any, subject: UUID, stream: UUID
    ) -> dict[str, Any]:
        """A copy of `state` with each value at `path` sealed (the event's own nested dicts
        are the aggregate's too: they are copied, never changed)."""

        def seal(value: Any, where: str) -> Any:
            if is_envelope(value):
                return value
            sealed = self.keyring.seal(subject, _aad(stream, where), self.transcoder.encode(value))
            cipher = base64.b64encode(sealed).decode() if sealed is not None else None
            return {ENVELOPE: {"s": str(subject), "c": cipher, "e": erased}}

        return cast(dict[str, Any], map_path(state, path.split("."), "", seal))

    # -- reading ------------------------------------------------------------------------

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        state = self._decode(stored_event)
        return self._to_domain_event(stored_event, state, self._subject(stored_event, state), {})

    def to_domain_events(self, stored_events: Sequence[StoredEvent]) -> list[Any]:
        """A page of events, with every key it needs fetched in one query first."""
        states = [self._decode(s) for s in stored_events]
        subjects = [self._subject(s, st) for s, st in zip(stored_events, states, strict=True)]
        if wanted := {s for s in subjects if s is not None}:
            self.keyring.preload(wanted)
        # Whether each subject is erased, asked once a page: emptied by an erasure in it
        destroyed: dict[UUID, bool] = {}
        return [
            self._to_domain_event(s, st, subject, destroyed)
            for s, st, subject in zip(stored_events, states, subjects, strict=True)
        ]

    @staticmethod
    def _subject(stored_event: StoredEvent, state: dict[str, Any]) -> UUID | None:
        """The id of whose personal data the event holds (None: not a personal event, or no
        subject that is an id)."""
        if (policy := PERSONAL_EVENTS.get(stored_event.topic)) is None:
            return None
        subject = policy.subject_of(state, stored_event.originator_id)
        return _as_uuid(subject)

    def _subject_id(self, text: str) -> UUID:
        """An envelope's subject: a renter's id repeats across a page, and a look-up is a
        fraction of reading a UUID from its text."""
        found = self._subject_ids.get(text)
        if found is None:
            if len(self._subject_ids) >= SUBJECT_IDS:
                self._subject_ids.clear()
            found = self._subject_ids[text] = UUID(text)
        return found

    def _is_destroyed(self, subject: UUID, destroyed: dict[UUID, bool]) -> bool:
        found = destroyed.get(subject)
        if found is None:
            found = destroyed[subject] = self.keyring.is_destroyed(subject)
        return found

    def _decode(self, stored_event: StoredEvent) -> dict[str, Any]:
        try:
            state: dict[str, Any] = (
                self._decode_as(stored_event.state, stored_event.topic)
                if self._decode_as is not None
                else self.transcoder.decode(stored_event.state)
            )
        except Exception as e:
            msg = (
                f"Failed to deserialise state of stored event with topic "
                f"'{stored_event.topic}', originator_id '{stored_event.originator_id}' "
                f"and originator_version {stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
        return state

    def _to_domain_event(
        self,
        stored_event: StoredEvent,
        state: dict[str, Any],
        subject: UUID | None,
        destroyed: dict[UUID, bool],
    ) -> Any:
        topic, stream, raw = stored_event.topic, stored_event.originator_id, stored_event.state
        cls, convert, class_version = self._class_of(topic, type(stream))
        policy = PERSONAL_EVENTS.get(topic)
        if policy is not None:
            self._erase_plain(state, policy.fields, subject, destroyed)
            for path, erased in policy.nested.items():
                state = self._open_path(state, path, erased, subject, stream, destroyed)
        elif isinstance(snapshot := state.get("state"), dict):
            fields = PERSONAL_SNAPSHOTS.get(state.get("topic", ""))
            if fields is not None:
                self._erase_plain(snapshot, fields, _as_uuid(stream), destroyed)
        if _may_hold_envelope(raw):
            opened = self._open_listed(state, policy.fields, stream) if policy else 0
            # Every top-level envelope spells the key once in the bytes: when the listed
            # fields held them all, no other field needs looking at.
            if not opened or type(raw) is not bytes or raw.count(_ENVELOPE_KEY) != opened:
                self._open_fields(state, stream, policy.fields if policy else {})
                if isinstance(state.get("state"), dict):  # a snapshot
                    self._open_fields(state["state"], stream, {})
        if topic == USER_ERASED_TOPIC:
            self.keyring.forget(cast(UUID, stream))
            destroyed.clear()  # the page's later events ask the key ring again
        state["originator_id"] = convert(stream)
        state["originator_version"] = stored_event.originator_version
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event: Any = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event

    def _class_of(self, topic: str, id_type: type) -> tuple[type, Callable[[Any], Any], int]:
        """The topic's class, its id convertor and class version (three look-ups an event)."""
        found = self._classes.get((topic, id_type))
        if found is None:
            cls = resolve_topic(topic)
            convert = find_id_convertor(cls, cast(Hashable, id_type))
            found = (cls, convert, getattr(cls, "class_version", 1))
            self._classes[(topic, id_type)] = found
        return found

    def _open_listed(self, state: dict[str, Any], fields: dict[str, Any], stream: Any) -> int:
        """Opens the envelopes of the policy's fields; how many there were."""
        opened = 0
        for field in fields:
            value = state.get(field)
            if is_envelope(value):
                state[field] = self._open(cast(dict[str, Any], value)[ENVELOPE], stream, field)
                opened += 1
        return opened

    def _open_fields(self, state: dict[str, Any], stream: Any, done: dict[str, Any]) -> None:
        """Opens the envelopes of every field but those `done` (opened already)."""
        for field, value in state.items():
            if is_envelope(value) and field not in done:
                state[field] = self._open(value[ENVELOPE], stream, field)

    def _erase_plain(
        self,
        state: dict[str, Any],
        fields: dict[str, Any],
        subject: UUID | None,
        destroyed: dict[UUID, bool],
    ) -> None:
        """Plaintext personal fields (events stored before encryption) of an erased
        subject read as erased too; the stored bytes keep them."""
        plain = [f for f in fields if f in state and not is_envelope(state[f])]
        if plain and subject is not None and self._is_destroyed(subject, destroyed):
            for field in plain:
                state[field] = fields[field]

    def _open_path(
        self,
        state: dict[str, Any],
        path: str,
        erased: Any,
        subject: UUID | None,
        stream: Any,
        destroyed: dict[UUID, bool],
    ) -> dict[str, Any]:
        """Opens the envelopes at `path`; plaintext there (stored before it was personal)
        reads as `erased` once its subject is."""
        gone = subject is not None and self._is_destroyed(subject, destroyed)

        def open_(value: Any, where: str) -> Any:
            if is_envelope(value):
                return self._open(value[ENVELOPE], stream, where)
            return erased if gone else value

        return cast(dict[str, Any], map_path(state, path.split("."), "", open_))

    def _open(self, envelope: dict[str, Any], stream: Any, field: str) -> Any:
        if envelope.get("c") is None:
            return envelope.get("e")
        sealed = a2b_base64(envelope["c"])  # b64decode's own work, without its wrapper
        plain = self.keyring.open(self._subject_id(envelope["s"]), _aad(stream, field), sealed)
        if plain is None:
            return envelope.get("e")
        return self.transcoder.decode(plain)


def map_path(value: Any, segments: list[str], where: str, leaf: Leaf) -> Any:
    """A copy of `value` with `leaf(value, its path)` at each value `segments` reaches ("*"
    is each item of a list, its index joins the path); what is absent is left as it is."""
    if not segments:
        return leaf(value, where)
    head, rest = segments[0], segments[1:]
    if head == "*":
        if not isinstance(value, list):
            return value
        return [map_path(v, rest, f"{where}.{i}", leaf) for i, v in enumerate(value)]
    if not isinstance(value, dict) or head not in value:
        return value
    return {**value, head: map_path(value[head], rest, f"{where}.{head}".lstrip("."), leaf)}


def _may_hold_envelope(raw: Any) -> bool:
    """Whether stored bytes may hold an envelope: most events hold no personal data, and a
    search of the bytes (in C) is cheaper than looking at each field. A `\\u` escape could
    spell the key, so it counts as maybe."""
    if type(raw) is not bytes or _ENVELOPE_KEY in raw:
        return True
    return b"\\" in raw and b"\\u" in raw  # one byte's search first: ten times cheaper


def _as_uuid(value: Any) -> UUID | None:
    return value if isinstance(value, UUID) or value is None else _uuid(value)


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _aad(stream: Any, field: str) -> bytes:
    return f"{stream}/{field}".encode()
