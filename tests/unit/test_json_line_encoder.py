"""The JSON log renderer's encoder (infrastructure/structured_logging.py `_ReusedEncoder`):
one `JSONEncoder` reused gives the bytes `json.dumps(obj, default=...)` gives, whatever
the line holds, including values only `default` can render."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import structlog
from hypothesis import given
from hypothesis import strategies as st

from infrastructure.structured_logging import _ReusedEncoder

_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.uuids()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(), inner)),
    max_leaves=12,
)


@given(line=st.dictionaries(st.text(), _VALUES, max_size=8))
def test_the_reused_encoder_gives_json_dumps_bytes(line: dict[str, Any]) -> None:
    encode = _ReusedEncoder()
    expected = json.dumps(line, default=repr)
    assert encode(line, default=repr) == expected
    assert encode(line, default=repr) == expected  # and again, from the kept encoder


def test_the_json_renderer_renders_as_before() -> None:
    line = {"event": "request", "status": 200, "actor": UUID(int=7), "nan": float("nan")}
    before = structlog.processors.JSONRenderer()(None, "info", dict(line))
    after = structlog.processors.JSONRenderer(serializer=_ReusedEncoder())(None, "info", line)
    assert after == before


def test_other_options_go_to_json_dumps() -> None:
    assert _ReusedEncoder()({"b": 1, "a": [1]}, default=repr, sort_keys=True) == json.dumps(
        {"b": 1, "a": [1]}, sort_keys=True
    )
