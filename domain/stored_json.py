"""Stored event states read with orjson, their typed values revived as the stock transcoder
revives them: the one fast path of the event transcoder (application/event_transcoder.py)
and of light events (projections/light.py).

It lives in domain, as `event_meta` does, because both sides of the store need it and
projections never import application; it is pure (bytes in, values out).

The stock decoder runs the `json` scanner with a Python hook on every object. Our events
keep their typed values (`{"_type_": ..., "_data_": "..."}`: ids, instants, dates) as direct
fields of the event, so: parse with orjson (no hook), count the typed objects in the bytes,
revive those found among the top-level fields. Everywhere else the answer is `UNREAD`, and
the caller decodes the stock way (the transcoder) or hands the event to the mapper (light):
- bytes orjson reads differently or not at all (`orjson_reads`; a parse error);
- a `\\u` escape could spell a `_type_` key (or a personal envelope) the byte count misses;
- more `"_type_"` in the bytes than typed top-level fields (a nested one, or that text as a
  value), or a typed field of an unknown name or with nested data.
Revived ids, instants, dates and decimals are shared by the events holding the same text:
ids repeat across a page (a listing's in all its bookings' events), and they are immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

import orjson

UNREAD: Any = object()  # `StateReader.read`'s answer where only the stock decoder may read
MEMO_SIZE = 20_000  # revived values kept per type name (a few MB); emptied when full
_TYPED = b'"_type_"'
_ESCAPE = b"\\u"
_BACKSLASH = b"\\"
_NESTED = (dict, list)
_IMMUTABLE = frozenset({UUID, datetime, date, Decimal})  # safe to share between events

# Every digit made "0", a quote kept, anything else " ": a long integer is then a run of
# "0"s after a " ", found by `in` in C (a regular expression for the run cost four times
# orjson's parse). A run right after a quote starts a string, never a number: ids in hex
# ("00000000000000000000000000000000", the system actor) need not go the slow way.
_DIGITS = bytes(
    ord("0") if chr(b).isdigit() and b < 128 else ord('"') if b == ord('"') else ord(" ")
    for b in range(256)
)
# orjson reads integers in [-2**63, 2**64) exactly; 19 digits may already be beyond.
_RUN = b"0" * 19
_LONG = b" " + _RUN


def orjson_reads(raw: bytes) -> bool:
    """False where `raw` may hold an integer orjson would read inexactly."""
    shape = raw.translate(_DIGITS)
    # A run of 19 anywhere first: a shorter needle, found (or not) at a third of the cost.
    return _RUN not in shape or (_LONG not in shape and not shape.startswith(_RUN))


class Revival(Protocol):
    """A transcoding, as reading needs it (eventsourcing's `Transcoding`)."""

    @property
    def type(self) -> type: ...

    def decode(self, data: Any) -> Any: ...


class StateReader:
    """The fast path over one transcoder's typed values (`names`: its own dict, so that
    names it registers later count; `forget` a name registered again)."""

    def __init__(self, names: Mapping[str, Revival]) -> None:
        self.names = names
        # name -> text -> value, or None (not immutable): a look-up is a tenth of building
        # a UUID from its hex
        self._memos: dict[str, dict[str, Any] | None] = {}
        self._typed_keys: dict[str | None, tuple[str, ...]] = {}  # topic -> last typed fields

    def forget(self, name: str) -> None:
        """Values revived for `name` no longer hold (another transcoding took the name)."""
        self._memos.pop(name, None)

    def read(self, data: bytes, topic: str | None = None) -> Any:
        """`data` as the stock transcoder decodes it, or `UNREAD` where only it may. With the
        topic of the event whose state it is, that topic's last typed fields are looked at
        first rather than every field (a fifth of a Booking.Placed's decode)."""
        # One byte's search first: `\\u` (two bytes) costs ten times more, and few states
        # hold a backslash at all.
        if type(data) is not bytes or (_BACKSLASH in data and _ESCAPE in data):
            return UNREAD
        if not orjson_reads(data):
            return UNREAD
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            return UNREAD
        typed = data.count(_TYPED)
        if not typed:
            return obj
        if type(obj) is not dict:
            return UNREAD
        # The topic's last typed fields, when each holds a typed value and they are `typed`,
        # are all there are: each spells `"_type_"` once in the bytes (no `\\u` escape).
        keys = self._typed_keys.get(topic)  # inline here: a call less per state
        if keys is None or len(keys) != typed or not self._revive(obj, keys):
            keys = tuple(
                key
                for key, value in obj.items()
                if type(value) is dict
                and len(value) == 2
                and "_type_" in value
                and "_data_" in value
            )
            if len(keys) != typed or not self._revive(obj, keys):
                return UNREAD  # the stock decoder revives them, or raises its error
            if topic is not None:
                self._typed_keys[topic] = keys
        return obj

    def _revive(self, obj: dict[str, Any], keys: tuple[str, ...]) -> bool:
        """Revives `obj[key]` for each key, in place, if each holds a typed value of a known
        name and plain data (checked inline: a call per field was a third of it); False and
        `obj` untouched if not."""
        names = self.names
        found = []
        for key in keys:
            value = obj.get(key)
            if type(value) is not dict or len(value) != 2:
                return False
            name, data = value.get("_type_"), value.get("_data_", value)
            if type(name) is not str or name not in names or data is value:
                return False
            if type(data) in _NESTED:
                return False
            found.append((key, name, data))
        memos = self._memos
        for key, name, data in found:
            memo = memos.get(name) if type(data) is str else None
            if memo is None and type(data) is str and name not in memos:  # a name first seen
                memo = memos[name] = {} if names[name].type in _IMMUTABLE else None
            if memo is None:
                obj[key] = names[name].decode(data)
                continue
            revived = memo.get(data)
            if revived is None:
                if len(memo) >= MEMO_SIZE:
                    memo.clear()
                revived = memo[data] = names[name].decode(data)
            obj[key] = revived
        return True
