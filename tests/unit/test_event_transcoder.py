"""`EventTranscoder` reads back exactly what the stock `JSONTranscoder` reads: the same
values, of the same types, keys in the same order, and the same errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given
from hypothesis import strategies as st

from application.event_transcoder import EventTranscoder
from application.store import DateAsISO, EventStore


def _registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return transcoder


STOCK = _registered(JSONTranscoder())
FAST = _registered(EventTranscoder())

typed = (
    st.uuids()
    | st.datetimes(timezones=st.just(UTC))
    | st.datetimes()
    | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False)
)
plain = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(["_type_", "_data_", "uuid_hex", '"_type_"'])
)
values = st.recursive(
    plain | typed,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text() | st.sampled_from(["_type_", "_data_"]), inner, max_size=4)
    ),
    max_leaves=20,
)
# The shape of our events: typed values and plain ones as fields, deeper values now and then.
events = st.dictionaries(st.text(max_size=12), values, max_size=8)


def _same(a: Any, b: Any) -> None:
    assert a == b
    assert repr(a) == repr(b)  # same types (1 stays int, a UUID is a UUID) and key order


@given(events)
def test_reads_an_event_as_the_stock_transcoder_does(state: dict[str, Any]) -> None:
    data = STOCK.encode(state)
    assert FAST.encode(state) == data  # writing is untouched: the stored bytes, the hashes
    _same_outcome(data)  # a generated `_type_` key may make stock refuse it: so must we


@given(values)
def test_reads_any_value_as_the_stock_transcoder_does(value: Any) -> None:
    _same_outcome(STOCK.encode(value))


@given(st.dictionaries(st.text(max_size=8), st.text(), max_size=4))
def test_a_hand_made_typed_lookalike_reads_as_stock(fields: dict[str, str]) -> None:
    """Objects with `_type_`/`_data_` that our encoder would not write: nested data, an
    escaped key, an unregistered name."""
    for raw in (
        {"a": {"_type_": "uuid_hex", "_data_": ["x"]}, **fields},
        {"a": {"_type_": 1, "_data_": "x"}, **fields},
        {"_type_": "date_iso", "_data_": "2026-01-02"},
        {"a": {"_type_": "date_iso", "_data_": "2026-01-02", "b": 1}, **fields},
    ):
        data = json.dumps(raw, separators=(",", ":")).encode()
        _same_outcome(data)
    _same_outcome(b'{"a":{"\\u005ftype_":"date_iso","_data_":"2026-01-02"}}')


def _same_outcome(data: bytes) -> None:
    try:
        expected = STOCK.decode(data)
    except Exception as exc:
        with pytest.raises(type(exc)):
            FAST.decode(data)
    else:
        _same(FAST.decode(data), expected)


def test_an_unregistered_type_raises_as_stock_does() -> None:
    data = b'{"at":{"_type_":"nope","_data_":"x"}}'
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.decode(data)


def test_what_orjson_reads_differently_is_read_as_stock() -> None:
    for data in (
        b'{"amount":18446744073709551616,"at":{"_type_":"date_iso","_data_":"2026-01-02"}}',
        b'{"x":NaN,"y":1e400}',
        b'{"a":1,"a":{"_type_":"uuid_hex","_data_":"' + b"0" * 32 + b'"}}',
    ):
        assert repr(FAST.decode(data)) == repr(STOCK.decode(data))
    for bad in (b"{", b'{"a":}', b"\xff"):
        with pytest.raises(ValueError):
            FAST.decode(bad)


def test_the_event_store_decodes_with_it() -> None:
    store = EventStore()
    assert type(store.mapper.transcoder) is EventTranscoder
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    value = {"id": UUID(int=7), "at": at, "day": date(2026, 1, 2), "p": Decimal("1.5")}
    assert store.mapper.transcoder.decode(STOCK.encode(value)) == value


def test_an_event_of_ours_is_read_without_the_stock_decoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    state = {"timestamp": at, "by": UUID(int=7), "quote": {"total": 100}, "keys": [1, 2]}
    data = STOCK.encode(state)
    expected = STOCK.decode(data)

    def refuse(self: JSONTranscoder, data: bytes) -> Any:
        raise AssertionError("the stock decoder ran")

    monkeypatch.setattr(JSONTranscoder, "decode", refuse)
    _same(FAST.decode(data), expected)


def test_revived_values_are_shared_and_stay_right_when_the_memo_empties(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("domain.stored_json.MEMO_SIZE", 3)
    fast = EventTranscoder()
    _registered(fast)
    ids = [UUID(int=n) for n in range(10)]
    first = [fast.decode(STOCK.encode({"id": i, "day": date(2026, 1, 1)})) for i in ids]
    again = [fast.decode(STOCK.encode({"id": i, "day": date(2026, 1, 1)})) for i in ids]
    assert [e["id"] for e in first] == ids == [e["id"] for e in again]
    assert first[-1]["day"] is again[0]["day"]  # one date object for the same text
    assert all(len(memo or ()) <= 3 for memo in fast.reader._memos.values())
