"""`loads` gives what `json` gives, for any JSON the event transcoder writes and for the JSON
orjson reads differently or not at all."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from eventsourcing.persistence import JSONTranscoder
from hypothesis import given
from hypothesis import strategies as st

from application.json_codec import loads

TRANSCODER = JSONTranscoder()  # the stored state's own encoder (separators, no ASCII escapes)

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: orjson would make those floats
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_reads_what_the_transcoder_wrote_as_json_does(value: Any) -> None:
    data = TRANSCODER.encode(value)
    read = loads(data)
    assert read == json.loads(data)
    assert json.dumps(read) == json.dumps(json.loads(data))  # same types: 1 stays int


def test_integers_beyond_64_bits_stay_exact() -> None:
    for big in (2**63, 2**64, -(2**63) - 1, 10**30):
        assert loads(json.dumps({"amount": big}).encode()) == {"amount": big}
        assert type(loads(json.dumps([big]).encode())[0]) is int
    assert loads(b'{"amount":18446744073709551615}') == {"amount": 2**64 - 1}


def test_what_orjson_refuses_is_read_as_json_reads_it() -> None:
    assert math.isnan(loads(b'{"x":NaN}')["x"])
    assert loads(b'{"x":Infinity,"y":1e400}') == {"x": math.inf, "y": math.inf}
    assert loads(b'"\\ud800"') == "\ud800"
    assert loads(b'{"a":1,"a":2}') == {"a": 2}  # the last duplicate key, as json keeps


def test_invalid_json_raises_a_value_error_as_before() -> None:
    for raw in (b"{", b'{"a":}', b"\xff"):
        with pytest.raises(ValueError):
            loads(raw)


def test_a_long_integer_anywhere_a_number_may_start_stays_exact() -> None:
    big = 10**25
    for raw in (f"{big}", f"-{big}", f"[{big}]", f'{{"a": {big}}}', f'{{"a":[1,\n{big}]}}'):
        assert loads(raw.encode()) == json.loads(raw)
        assert "e" not in repr(loads(raw.encode()))  # an int, not a float


def test_digits_in_a_string_read_as_json_reads_them() -> None:
    raw = b'{"id":"00000000000000000000000000000000","n":"1234567890123456789012"}'
    assert loads(raw) == json.loads(raw)
