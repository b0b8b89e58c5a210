"""projections/light.py keeps its own copy of application/json_codec.py's `orjson_reads`
(projections never import application); the two must answer alike on every input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from application.json_codec import orjson_reads
from projections.light import _orjson_reads

_SAMPLES = [
    b"",
    b'{"a": 1}',
    b'{"a": 1234567890123456789}',
    b"1234567890123456789",
    b'{"id": "00000000000000000000000000000000"}',
    b'{"n": -99999999999999999999}',
]


def test_the_two_copies_agree_on_the_edge_cases() -> None:
    for raw in _SAMPLES:
        assert _orjson_reads(raw) == orjson_reads(raw), raw


@given(st.binary(max_size=64) | st.from_regex(rb'[ "0-9a-z{}:,\-]{0,60}', fullmatch=True))
def test_the_two_copies_agree_on_any_bytes(raw: bytes) -> None:
    assert _orjson_reads(raw) == orjson_reads(raw)
