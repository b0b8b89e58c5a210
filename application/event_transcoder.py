"""The stock JSON transcoder, reading stored events through orjson where that is exact.

The stock decoder runs the `json` scanner with a Python hook on every object. Our events
keep their typed values (`{"_type_": ..., "_data_": "..."}`: ids, instants, dates) as direct
fields of the event, so: parse with orjson (no hook), count the typed objects in the bytes,
revive those found among the top-level fields, and if that is not all of them (typed values
nested deeper, or inside a typed value) decode the stock way instead. Writing is untouched,
so stored bytes, and the hash chain over them, are what they were.

Exactly the stock result, or the stock decode itself:
- bytes orjson reads differently (long integers, NaN, lone surrogates: see json_codec) or
  not at all go to the stock decoder, which keeps its errors too;
- a `\\u` escape could spell a `_type_` key the byte count misses: stock decoder;
- more `"_type_"` in the bytes than typed top-level fields (a nested one, or that text as a
  value): stock decoder.
Revived ids, instants, dates and decimals are shared by the events holding the same text:
ids repeat across a page (a listing's in all its bookings' events), and they are immutable.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

from application.json_codec import orjson_reads

_TYPED = b'"_type_"'
_ESCAPE = b"\\u"
_BACKSLASH = b"\\"
_NESTED = (dict, list)
_IMMUTABLE = frozenset({UUID, datetime, date, Decimal})  # safe to share between events
MEMO_SIZE = 20_000  # revived values kept per type (a few MB); emptied when full


class EventTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        # name -> text -> value: a look-up is a tenth of building a UUID from its hex
        self._memos: dict[str, dict[str, Any]] = {}
        self._typed_keys: dict[str, tuple[str, ...]] = {}  # topic -> its last typed fields

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        if transcoding.type in _IMMUTABLE:
            self._memos[transcoding.name] = {}
        else:
            self._memos.pop(transcoding.name, None)

    def decode(self, data: bytes) -> Any:
        return self.decode_as(data, None)

    def decode_as(self, data: bytes, topic: str | None) -> Any:
        """`decode(data)` for the state of an event of `topic`: the typed fields of the
        topic's last state are looked at first, rather than every field (a fifth of a
        Booking.Placed's decode). The same answer: see `_revive_fields`."""
        # One byte's search first: `\\u` (two bytes) costs ten times more, and few states
        # hold a backslash at all.
        escaped = _BACKSLASH in data and _ESCAPE in data if type(data) is bytes else True
        if escaped or not orjson_reads(data):
            return super().decode(data)
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().decode(data)
        typed = data.count(_TYPED)
        if not typed:
            return obj
        if type(obj) is not dict or not self._revive_fields(obj, typed, topic):
            return super().decode(data)
        return obj

    def _revive_fields(self, obj: dict[str, Any], typed: int, topic: str | None) -> bool:
        """Revives the typed values among `obj`'s fields, in place, if they are all `typed`
        of the document and hold plain data; False (and `obj` untouched) otherwise. The
        topic's last typed fields, when each holds a typed value and they are `typed`, are
        all there are: each spells `"_type_"` once in the bytes (no `\\u` escape here)."""
        keys = self._typed_keys.get(topic) if topic is not None else None
        found: list[tuple[str, Any]] | None = None
        if keys is not None and len(keys) == typed:
            found = []
            for key in keys:  # inline: a call per field cost more than the scan saves
                value = obj.get(key)
                if type(value) is not dict or len(value) != 2 or "_data_" not in value:
                    found = None
                    break
                if "_type_" not in value:
                    found = None
                    break
                found.append((key, value))
        if found is None:
            found = [
                (key, value)
                for key, value in obj.items()
                if type(value) is dict
                and len(value) == 2
                and "_type_" in value
                and "_data_" in value
            ]
            if len(found) != typed:
                return False
            if topic is not None:
                self._typed_keys[topic] = tuple(key for key, _ in found)
        names = self.names
        for _, value in found:
            name = value["_type_"]
            if type(name) is not str or name not in names or type(value["_data_"]) in _NESTED:
                return False  # the stock decoder revives it, or raises its error
        memos = self._memos
        for key, value in found:
            name, data = value["_type_"], value["_data_"]
            memo = memos.get(name) if type(data) is str else None
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
