"""One-dimensional PostgreSQL arrays packed in binary by whole columns (`projections/bulk.py`).

psycopg dumps a list parameter element by element in Python (`ListBinaryDumper._dump_list`:
a dumper call, a length packed, two appends per value); for a rebuild's pages of ten
thousand rows that was about a quarter of the notifications view's CPU. The common element
types (uuid, text, bigint, aware timestamps, JSONB text from `JSONText`) are packed here in
one pass per column: the same wire bytes psycopg's binary dumpers write (uuid: its 16
bytes; text: UTF-8; int8: big-endian; timestamptz: microseconds since 2000-01-01 UTC;
jsonb: version 1 then the text). A column with any other value (a naive datetime, a
Decimal, a mix of types, an int beyond 64 bits) stays a list and psycopg dumps it as before.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import pq
from psycopg.adapt import Dumper
from psycopg.types.json import Jsonb

from projections.json_text import is_text_jsonb

_HEAD = struct.Struct(">iiiii")  # ndim, has null, element oid, length, lower bound
_LEN = struct.Struct(">i")
_INT8 = struct.Struct(">iq")  # length 8, value
_NULL = _LEN.pack(-1)
_UUID_LEN = _LEN.pack(16)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

UUID_OID, TEXT_OID, INT8_OID, TIMESTAMPTZ_OID, JSONB_OID = 2950, 25, 20, 1184, 3802
ARRAY_OIDS = {
    UUID_OID: 2951,
    TEXT_OID: 1009,
    INT8_OID: 1016,
    TIMESTAMPTZ_OID: 1185,
    JSONB_OID: 3807,
}


class PackedArray:
    """A column already in PostgreSQL's binary array format, with its array type's oid."""

    __slots__ = ("data", "oid")

    def __init__(self, data: bytes, oid: int) -> None:
        self.data = data
        self.oid = oid


class _PackedDumper(Dumper):
    format = pq.Format.BINARY

    def get_key(self, obj: Any, format: Any) -> Any:
        return (PackedArray, obj.oid)

    def upgrade(self, obj: Any, format: Any) -> Dumper:
        dumper = type(self)(PackedArray)
        dumper.connection = self.connection
        dumper.oid = obj.oid
        return dumper

    def dump(self, obj: Any) -> bytes:
        return bytes(obj.data)


psycopg.adapters.register_dumper(PackedArray, _PackedDumper)


def _uuids(values: list[Any]) -> list[bytes]:
    return [_NULL if v is None else _UUID_LEN + v.bytes for v in values]


def _texts(values: list[Any]) -> list[bytes]:
    encoded = [None if v is None else v.encode() for v in values]
    return [_NULL if b is None else _LEN.pack(len(b)) + b for b in encoded]


def _int8s(values: list[Any]) -> list[bytes]:
    return [_NULL if v is None else _INT8.pack(8, v) for v in values]  # struct.error if > 64 bits


def _timestamptzs(values: list[Any]) -> list[bytes]:
    if any(v is not None and v.tzinfo is None for v in values):
        raise ValueError("naive")  # psycopg's `timestamp`: left to it
    return [_NULL if v is None else _INT8.pack(8, (v - _EPOCH) // _MICROSECOND) for v in values]


def _jsonbs(values: list[Any]) -> list[bytes]:
    if not all(v is None or is_text_jsonb(v) for v in values):
        raise ValueError("not text")  # psycopg encodes other values itself
    encoded = [None if v is None else b"\x01" + v.obj.encode() for v in values]
    return [_NULL if b is None else _LEN.pack(len(b)) + b for b in encoded]


# Element type -> its oid and how a column of it (and None) is packed, element by element.
_PACKERS: dict[type, tuple[int, Callable[[list[Any]], list[bytes]]]] = {
    UUID: (UUID_OID, _uuids),
    str: (TEXT_OID, _texts),
    int: (INT8_OID, _int8s),
    datetime: (TIMESTAMPTZ_OID, _timestamptzs),
    Jsonb: (JSONB_OID, _jsonbs),
}
_NONE = type(None)


def packed(values: list[Any]) -> PackedArray | list[Any]:
    """`values` packed as one binary array, or the list itself when a value is not of a
    packed type (or the column is empty or all NULL: psycopg types those)."""
    kinds = set(map(type, values))  # exact types: a subclass (bool, a str enum) is left alone
    kinds.discard(_NONE)
    if len(kinds) != 1:
        return values
    known = _PACKERS.get(kinds.pop())
    if known is None:
        return values
    oid, pack = known
    try:
        parts = pack(values)
    except (ValueError, struct.error):
        return values
    # No packed value is those four bytes alone (each starts with a length >= 0).
    has_null = 1 if _NULL in parts else 0
    head = _HEAD.pack(1, has_null, oid, len(values), 1)
    return PackedArray(head + b"".join(parts), ARRAY_OIDS[oid])
