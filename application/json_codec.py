"""Stored event state read with orjson, with the standard library's results.

Ledger verify reads every payment event's state as plain JSON (application/ledger_lines.py),
and JSON decoding was the biggest Python cost it had left: orjson parses it in about half
the time of the `json` scanner.

orjson does not read everything `json` does, and reads one thing differently:
- an integer beyond 64 bits becomes a float, silently: bytes with a run of 19 digits or more
  (in a string too, to stay simple and fast: `orjson_reads`) are left to `json`, which
  keeps it exact;
- NaN, Infinity, numbers overflowing a double and lone surrogates (`"\\ud800"`) are errors to
  orjson: `json` reads them instead.
Duplicate keys keep the last value in both.

The event transcoder's fast path (domain/stored_json.py) shares `orjson_reads`, not
`loads`: what orjson cannot read exactly goes to the stock decoder there, whose object hook
revives the typed values (`{"_type_", "_data_"}`), not to plain `json`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from domain.stored_json import orjson_reads  # where orjson reads exactly


def loads(raw: bytes) -> Any:
    """`json.loads(raw)`, through orjson when it gives the same value."""
    if orjson_reads(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw.decode("utf8"))
