"""Stored event state read with orjson, with the standard library's results.

Decoding was a fifth of a projection rebuild and the biggest Python cost of ledger verify:
the standard `json` decoder calls the transcoder's `object_hook` back in Python for every
object. orjson parses in ~40% of the time; the typed objects (`{"_type_", "_data_"}`) are
then revived in one walk, inner objects first, as the hook would have seen them.

orjson does not read everything `json` does, and reads one thing differently:
- an integer beyond 64 bits becomes a float, silently: text with a run of 19 digits or more
  anywhere (in a string too, to stay simple) is left to `json`, which keeps it exact;
- NaN, Infinity, numbers overflowing a double and lone surrogates (`"\\ud800"`) are errors to
  orjson: `json` reads them instead.
Duplicate keys keep the last value in both. The transcoder still encodes with `json`: the
stored bytes, and so the hash chain, do not change.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

# 19 digits may exceed a signed 64-bit integer (orjson reads up to 2**64 - 1 exactly).
_LONG_DIGITS = re.compile(rb"\d{19}")


def loads(raw: bytes) -> Any:
    """`json.loads(raw)`, through orjson when it gives the same value."""
    if _LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw.decode("utf8"))


class OrjsonTranscoder(JSONTranscoder):
    """The eventsourcing JSON transcoder (same transcodings, same bytes written) that reads
    with `loads` and revives typed objects after parsing instead of in a per-object hook."""

    def decode(self, data: bytes) -> Any:
        value = loads(data)
        kind = type(value)
        if kind is dict:
            return self._revive(value)
        if kind is list:
            self._revive_list(value)
        return value

    def _revive(self, obj: dict[str, Any]) -> Any:
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                obj[key] = self._revive(value)  # same key: the dict's size never changes
            elif kind is list:
                self._revive_list(value)
        return self._decode_obj(obj) if len(obj) == 2 else obj

    def _revive_list(self, items: list[Any]) -> None:
        for index, value in enumerate(items):
            kind = type(value)
            if kind is dict:
                items[index] = self._revive(value)
            elif kind is list:
                self._revive_list(value)
