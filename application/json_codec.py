"""Stored event state read with orjson, with the standard library's results.

Ledger verify reads every payment event's state as plain JSON (application/ledger_lines.py),
and JSON decoding was the biggest Python cost it had left: orjson parses it in about half
the time of the `json` scanner.

orjson does not read everything `json` does, and reads one thing differently:
- an integer beyond 64 bits becomes a float, silently: bytes with a run of 19 digits or more
  (in a string too, to stay simple and fast) are left to `json`, which keeps it exact;
- NaN, Infinity, numbers overflowing a double and lone surrogates (`"\\ud800"`) are errors to
  orjson: `json` reads them instead.
Duplicate keys keep the last value in both.

The event transcoder (application/event_transcoder.py) shares `orjson_reads` but not
`loads`: what orjson cannot read exactly goes to the stock decoder there, whose object hook
revives the typed values (`{"_type_", "_data_"}`), not to plain `json`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

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


def loads(raw: bytes) -> Any:
    """`json.loads(raw)`, through orjson when it gives the same value."""
    if orjson_reads(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw.decode("utf8"))
