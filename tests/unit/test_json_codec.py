"""The orjson reader gives what the stock eventsourcing transcoder gives, for any JSON the
transcoder writes and for the JSON orjson reads differently or not at all."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given
from hypothesis import strategies as st

from application.json_codec import OrjsonTranscoder, loads
from application.store import DateAsISO


def _pair() -> tuple[JSONTranscoder, OrjsonTranscoder]:
    from eventsourcing.persistence import (
        DatetimeAsISO,
        DecimalAsStr,
        UUIDAsHex,
    )

    stock, fast = JSONTranscoder(), OrjsonTranscoder()
    for transcoder in (stock, fast):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
            transcoder.register(transcoding)
    return stock, fast


STOCK, FAST = _pair()

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too: orjson would make those floats
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_decodes_what_the_transcoder_wrote_as_the_stock_transcoder_does(value: Any) -> None:
    data = STOCK.encode(value)
    assert FAST.encode(value) == data  # writing is unchanged: same bytes, same hash chain
    assert FAST.decode(data) == STOCK.decode(data)


def test_typed_objects_are_revived_inside_lists_and_inside_other_typed_data() -> None:
    ids = [uuid4(), uuid4()]
    state = {"ids": ids, "nested": [[{"at": datetime(2026, 1, 2, tzinfo=UTC)}]], "d": date.min}
    data = STOCK.encode(state)
    assert FAST.decode(data) == state
    assert FAST.decode(STOCK.encode(ids)) == ids
    assert FAST.decode(STOCK.encode(Decimal("1.10"))) == Decimal("1.10")


def test_integers_beyond_64_bits_stay_exact() -> None:
    for big in (2**63, 2**64, -(2**63) - 1, 10**30):
        assert loads(json.dumps({"amount": big}).encode()) == {"amount": big}
        assert type(loads(json.dumps([big]).encode())[0]) is int


def test_what_orjson_refuses_is_read_as_json_reads_it() -> None:
    nan = loads(b'{"x":NaN}')["x"]
    assert math.isnan(nan)
    assert loads(b'{"x":Infinity,"y":1e400}') == {"x": math.inf, "y": math.inf}
    assert loads(b'"\\ud800"') == "\ud800"
    assert loads(b'{"a":1,"a":2}') == {"a": 2}  # the last duplicate key, as json keeps


def test_invalid_json_raises_a_value_error_as_before() -> None:
    for raw in (b"{", b'{"a":}', b"\xff"):
        with pytest.raises(ValueError):
            loads(raw)


def test_an_unregistered_type_name_still_raises() -> None:
    data = b'{"_type_":"nope","_data_":1}'
    for transcoder in (STOCK, FAST):
        with pytest.raises(TranscodingNotRegisteredError, match="nope"):
            transcoder.decode(data)


def test_uuid_keys_are_text_as_before() -> None:
    key = str(UUID(int=1))
    assert FAST.decode(STOCK.encode({key: 1})) == {key: 1}
