"""The one fast path of stored states (`domain/stored_json.py`), shared by the event
transcoder and light events: it revives every typed value the store's transcoder knows as
the transcoder does (same values, same types, same key order), wherever the value stands,
or hands the state over; the transcoder and light events read through the same reader."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Transcoding
from hypothesis import given
from hypothesis import strategies as st

from application.event_transcoder import EventTranscoder
from application.store import EventStore
from domain.stored_json import _BACKSLASH, UNREAD, StateReader, orjson_reads
from projections import light

STORE = cast(EventTranscoder, EventStore().mapper.transcoder)
KNOWN: dict[str, Transcoding] = STORE.names
STOCK = JSONTranscoder()
for _transcoding in KNOWN.values():
    STOCK.register(_transcoding)

offsets = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), None])
# A value of each type the store's transcoder stores typed (`_type_`, `_data_`)
BY_TYPE: dict[type, st.SearchStrategy[Any]] = {
    UUID: st.uuids() | st.sampled_from([UUID(int=0), UUID(int=7)]),  # repeated: memo hits
    datetime: st.datetimes(timezones=offsets),
    date: st.dates() | st.just(date(2026, 1, 2)),
    Decimal: st.decimals(allow_nan=True) | st.decimals(places=2, allow_nan=False),
}
typed = st.one_of(*(BY_TYPE[t.type] for t in KNOWN.values() if t.type in BY_TYPE))
plain = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
nested = st.lists(typed | plain, max_size=3) | st.dictionaries(st.text(max_size=4), typed)
fields = st.dictionaries(st.text(max_size=10), typed | plain | nested, max_size=8)
topics = st.sampled_from(["test:A", "test:B", None])


def test_every_type_the_store_stores_typed_has_values_here() -> None:
    assert {t.type for t in KNOWN.values()} <= set(BY_TYPE)


def exact(value: Any) -> str:
    """Types and values (repr tells an aware datetime's offset, a Decimal's exponent)."""
    return repr(value)


def _readable(data: bytes) -> bool:
    """Bytes the fast path reads itself: no `\\u` escape, no integer orjson misreads."""
    return not (_BACKSLASH in data and b"\\u" in data) and orjson_reads(data)


def _flat(state: dict[str, Any], data: bytes) -> bool:
    """A state the fast path reads itself: readable bytes, typed values as fields only and
    no other `"_type_"` in the bytes (a key or a text of that name)."""
    if any(type(v) in (list, dict) for v in state.values()):
        return False
    fields = sum(type(v) in BY_TYPE for v in state.values())
    return _readable(data) and data.count(b'"_type_"') == fields


@given(st.dictionaries(st.text(max_size=10), typed, min_size=1, max_size=8), topics)
def test_typed_top_level_fields_are_revived_as_the_transcoder_revives_them(
    state: dict[str, Any], topic: str | None
) -> None:
    data = STOCK.encode(state)
    expected = STOCK.decode(data)
    for reader in (STORE.reader, StateReader(KNOWN)):
        got = reader.read(data, topic)
        if got is UNREAD:  # only where the stock decoder must read
            assert not _flat(state, data)
            continue
        assert exact(got) == exact(expected)
        assert exact(reader.read(data, topic)) == exact(expected)  # from its memos now


@given(st.lists(st.tuples(fields, topics), min_size=1, max_size=4))
def test_any_state_reads_as_the_transcoder_or_is_handed_over(
    states: list[tuple[dict[str, Any], str | None]],
) -> None:
    """Typed values nested deeper, typed fields that come and go under one topic: what it
    reads is the transcoder's reading, and a flat state it always reads itself."""
    reader = StateReader(KNOWN)
    for state, topic in states:
        data = STOCK.encode(state)
        expected = STOCK.decode(data)
        got = reader.read(data, topic)
        assert exact(STORE.decode_as(data, topic)) == exact(expected)
        if got is UNREAD:
            assert not _flat(state, data), data
            continue
        assert exact(got) == exact(expected)


@given(st.dictionaries(st.sampled_from(["id", "at", "day"]), typed, min_size=1), topics)
def test_light_events_read_through_the_transcoders_reader(
    state: dict[str, Any], topic: str | None
) -> None:
    """One reader for both: the values light events revive are the transcoder's objects;
    a stock JSONTranscoder (no reader of its own) gets one, answering alike."""
    data = STOCK.encode(state)
    fast = EventTranscoder()
    for transcoding in KNOWN.values():
        fast.register(transcoding)
    from_transcoder = fast.decode_as(data, topic)
    for transcoder in (fast, STOCK):
        log: Any = SimpleNamespace(mapper=SimpleNamespace(transcoder=transcoder))
        got = light.reader_of(log).read(data, topic)
        if got is UNREAD:
            assert not _flat(state, data)
            continue
        assert exact(got) == exact(from_transcoder)
        if transcoder is fast:  # the same objects: revived once, for both
            assert all(got[k] is from_transcoder[k] for k in got)


class _UUIDAsText(Transcoding):
    type = str
    name = "uuid_hex"

    def encode(self, obj: Any) -> Any:
        return obj

    def decode(self, data: Any) -> Any:
        return f"id:{data}"


def test_a_name_registered_again_is_revived_by_its_new_transcoding() -> None:
    fast = EventTranscoder()
    for transcoding in KNOWN.values():
        fast.register(transcoding)
    data = STOCK.encode({"id": UUID(int=7)})
    assert fast.decode(data) == {"id": UUID(int=7)}
    fast.register(_UUIDAsText())  # the memo of UUIDs must not answer for it
    assert fast.decode(data) == {"id": "id:" + UUID(int=7).hex}
