"""The ledger as canonical posting lines, straight from stored events: what `verify` compares
and hashes, without decoding events into domain objects.

A py-spy profile of verify (issue #9, 13k entries/s) spent its time building what it then
threw away: a domain event per payment event (the transcoder's per-object hook), `Posting`
and `Money` per line, two `UUID` objects per entry id. Here a payment event's state is read
by a strict pydantic validator of only the fields its posting rule reads (nothing else of the
JSON becomes a Python object), the very posting rules of domain/ledger.py run over it
(`canonical_postings`), and ids stay text. Events whose class has upcasts, or whose state
holds a value this reader does not know, go through the mapper as before.
"""

from __future__ import annotations

import contextlib
import gc
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, Notification
from eventsourcing.utils import get_topic
from pydantic import ConfigDict, TypeAdapter, ValidationError
from pydantic_core import SchemaValidator
from typing_extensions import TypedDict

from application.json_codec import loads
from domain.event_meta import META_KEY
from domain.ledger import RULES, canonical_postings, entry_id_text

Lines = list[str]
# (position, originator id as text, originator version, topic, state) of a stored event.
RawEvent = tuple[int, str, int, str, bytes]
# Stored events of `topics` with positions in (after, stop], in log order.
EventRows = Callable[[Sequence[str], int, int], Iterable[RawEvent]]


@dataclass
class RecordedLedger:
    """The recorded journal entries up to a position, read by the database itself (an
    `EventRows` may offer it as `recorded_ledger(stop)`): canonical lines by entry id text
    in log order, whether every entry balances per currency with positive amounts, and the
    totals per currency."""

    lines: dict[str, Lines]
    balanced: bool
    debits: dict[str, int]
    credits: dict[str, int]


def notification_rows(recorder: Any, page: int = 5000) -> EventRows:
    """`EventRows` over any application recorder (SQLite, in memory, PostgreSQL)."""

    def rows(topics: Sequence[str], after: int, stop: int) -> Iterator[RawEvent]:
        # Pages by id range, not by count: `id > start ... LIMIT n` makes PostgreSQL sort
        # every remaining row of the topics for each page, a range only its own rows.
        while after < stop:
            end = min(after + page, stop)
            for n in recorder.select_notifications(
                after, page, stop=end, topics=topics, inclusive_of_start=False
            ):
                yield n.id, str(n.originator_id), n.originator_version, n.topic, n.state
            after = end

    return rows


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Verification makes ~10 lists and strings per entry and keeps them, none in a cycle:
    the cyclic collector would rescan them all, generation after generation (~20% of the
    time). Reference counting still frees everything; the collector is back afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Unknown(Exception):
    """A stored value only the mapper's transcoder decodes."""


class _Fields:
    """A payment event's stored fields as the posting rules read them: numbers and text as
    stored, ids as `str(UUID)` text (all the rules do with them is format them), as plain
    instance attributes (a `__getattr__` per read cost more than the rules themselves). A
    name it lacks (a field stored as something this reader does not decode, or none such)
    raises `_Unknown`, and the mapper reads that event."""

    def __getattr__(self, name: str) -> Any:
        raise _Unknown(name)


class _UuidHex(TypedDict):
    """How the transcoder stores a `UUID`."""

    _type_: Literal["uuid_hex"]
    _data_: str


@dataclass(frozen=True)
class _Layout:
    """How an event class's state is read: a strict validator of the fields of text, number
    and `UUID` types its rule reads (and `class_version`, which means upcasting: the
    mapper's). It reads the JSON in one pass and exactly (integers of any size), making no
    Python object for anything else; a value of another type, or anything else the
    validator refuses, sends the event to the mapper."""

    cls: type[Any]
    uuids: tuple[str, ...]
    validator: SchemaValidator


_SCALARS = (int, str, bool)


class _Probe:
    """Stands in for an event to learn which fields a rule reads: each is 0."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return 0


def _read_by_rule(cls: type[Any], hints: dict[str, Any]) -> set[str]:
    """The fields `cls`'s posting rule reads (every field if the probe cannot tell). A rule
    that read others on another branch would meet `_Unknown` there: the mapper's read."""
    probe = _Probe()
    try:
        canonical_postings(cls, probe)
    except Exception:
        return set(hints)
    return probe.read


def _layout(cls: type[Any]) -> _Layout:
    hints = typing.get_type_hints(cls)
    read = _read_by_rule(cls, hints)
    kept: dict[str, Any] = {
        name: _UuidHex if hint is UUID else hint
        for name, hint in hints.items()
        if name in read and name != META_KEY and (hint is UUID or hint in _SCALARS)
    }
    uuids = tuple(name for name in kept if hints[name] is UUID)
    kept["class_version"] = int
    fields = TypedDict(cls.__name__, kept, total=False)  # type: ignore[misc]
    fields.__pydantic_config__ = ConfigDict(strict=True)  # type: ignore[attr-defined]
    return _Layout(cls, uuids, TypeAdapter(fields).validator)  # type: ignore[arg-type]


def _fields(layout: _Layout, raw: bytes, ids: dict[str, str] | None = None) -> _Fields | None:
    """The rules' event from a stored state; None when the mapper must read it. `ids`
    remembers each id's text by its hex: owners and bookings recur across a ledger's events
    (formatting them was a tenth of deriving)."""
    try:
        state = layout.validator.validate_json(raw)
    except ValidationError:
        return None
    if "class_version" in state:
        return None
    if ids is None:
        ids = {}
    for name in layout.uuids:
        if (value := state.get(name)) is not None:
            h = value["_data_"]
            if (text := ids.get(h)) is None:
                text = ids[h] = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
            state[name] = text
    fields = _Fields()
    fields.__dict__ = state
    return fields


def _state(raw: bytes) -> Any:
    """The stored state as plain JSON values (orjson, or `json` where they differ)."""
    return loads(raw)


# Topic -> how to read it, for the classes whose stored state is their state (no upcasts).
_PLAIN = {get_topic(cls): _layout(cls) for cls in RULES if getattr(cls, "class_version", 1) == 1}


class LedgerLines:
    """Canonical lines of recorded entries and of the entries payment events make."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        # With a cipher or a compressor the bytes are not JSON: the mapper reads them.
        self.plain = mapper.cipher is None and mapper.compressor is None
        self.ids: dict[str, str] = {}  # id text by hex, for `_fields`

    def recorded(self, row: RawEvent) -> list[dict[str, Any]]:
        """A `JournalEntry.Recorded`'s postings, as recorded (dicts)."""
        if self.plain:
            postings: list[dict[str, Any]] = _state(row[4])["postings"]
            return postings
        return list(getattr(self._event(row), "postings"))  # noqa: B009

    def derived(self, row: RawEvent) -> tuple[str, Lines] | None:
        """(entry id text, canonical lines) of the entry a payment event makes, or None."""
        layout = _PLAIN.get(row[3]) if self.plain else None
        if layout is not None and (fields := _fields(layout, row[4], self.ids)) is not None:
            try:
                lines = canonical_postings(layout.cls, fields)
            except _Unknown:
                return self._through_mapper(row)
            return (entry_id_text(row[1], row[2]), lines) if lines else None
        return self._through_mapper(row)

    def _through_mapper(self, row: RawEvent) -> tuple[str, Lines] | None:
        event = self._event(row)
        lines = canonical_postings(type(event), event)
        return (entry_id_text(row[1], row[2]), lines) if lines else None

    def _event(self, row: RawEvent) -> DomainEventProtocol[Any]:
        position, originator_id, version, topic, state = row
        note = Notification(
            id=position,
            originator_id=UUID(originator_id),
            originator_version=version,
            topic=topic,
            state=state,
        )
        event: DomainEventProtocol[Any] = self.mapper.to_domain_event(note)
        return event
