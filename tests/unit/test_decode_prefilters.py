"""The decoders' cheap checks (a backslash before `\\u`, a run of 19 digits before the exact
long-integer test) and the light path's inline revival answer as the slower forms did."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from application.personal_mapper import _may_hold_envelope
from domain.stored_json import _DIGITS, _LONG, _RUN, UNREAD, orjson_reads
from projections import light
from tests.unit.test_event_transcoder import FAST, STOCK

LOG: Any = SimpleNamespace(mapper=SimpleNamespace(transcoder=FAST))


def _before(raw: bytes) -> bool:
    shape = raw.translate(_DIGITS)
    return _LONG not in shape and not shape.startswith(_RUN)


digits_and_text = st.from_regex(rb'[ "0-9a-z\\{}:,\-]{0,80}', fullmatch=True)


@given(st.binary(max_size=80) | digits_and_text)
def test_the_run_first_check_answers_as_the_exact_one(raw: bytes) -> None:
    assert orjson_reads(raw) == _before(raw)


@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "at", "id"]),
        st.uuids() | st.dates() | st.none() | st.integers() | st.text(max_size=6),
        max_size=4,
    ),
    st.lists(st.sampled_from(["a", "b", "at", "id"]), max_size=4),
)
def test_a_topic_whose_typed_fields_change_decodes_as_the_transcoder(
    first: dict[str, Any], second_keys: list[str]
) -> None:
    """Light decoding tries the topic's last typed fields first; another set of typed
    fields (a None where a date was, a new field) must still decode exactly."""
    second = {k: first.get(k) for k in second_keys}
    for state in (first, second, first):
        raw = STOCK.encode(state)
        got = light.reader_of(LOG).read(raw, "test:Topic")
        if got is UNREAD:  # handed to the mapper: the stock decoder reads it
            assert b"\\u" in raw or not orjson_reads(raw)
            continue
        expected = STOCK.decode(raw)
        assert got == expected and repr(got) == repr(expected)


def test_an_escaped_state_is_read_by_the_stock_decoder() -> None:
    raw = b'{"a":{"\\u005ftype_":"date_iso","_data_":"2026-01-02"}}'
    assert FAST.decode(raw) == STOCK.decode(raw)
    note: Any = SimpleNamespace(state=raw, topic="test:Topic")
    assert light.light_event(LOG, note) is None


@given(st.binary(max_size=80) | digits_and_text | st.just(b'{"m":"\\u005fpersonal"}'))
def test_the_envelope_check_answers_as_before(raw: bytes) -> None:
    before = b'"_personal"' in raw or b"\\u" in raw
    assert _may_hold_envelope(raw) == before
