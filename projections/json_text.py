"""A JSON column written from text the view encoded itself, read back like `JSONType`.

A value several rows share (a notification's data, in each recipient's row) is then
encoded once, by orjson, instead of once per row by `json` inside the driver. Reads are
unchanged: PostgreSQL's JSONB and SQLite's JSON text parse back to the same value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from psycopg.types.json import Jsonb
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


def encode(value: Any) -> str:
    """JSON text of `value`: orjson, or `json` for what orjson refuses but `json` writes
    (non-string keys, integers beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def _as_is(text: str) -> str:
    return text


class JSONText(TypeDecorator[Any]):
    """Binds text from `encode` (never a dict); results are decoded values, as from JSON."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "postgresql":
            return lambda text: None if text is None else Jsonb(text, _as_is)
        return None  # SQLite stores the text as it is
