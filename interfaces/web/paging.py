"""Pages of the admin lists: 50 rows, "Next" and "Previous" links that keep the filters in
the URL and carry an opaque `cursor` in the API's style (interfaces/cursors.py) naming the
key to continue after — or before, going back."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request

from domain.errors import RuleViolation
from interfaces.cursors import cursor_value, encode_cursor
from projections.keyset import KeysetPage

PAGE_SIZE = 50
MAX_CURSOR_LENGTH = 1024  # as the API's


@dataclass(frozen=True)
class Bounds:
    after: list[str] | None = None
    before: list[str] | None = None


def read_cursor(cursor: str) -> Bounds:
    """The key a `cursor` continues from; empty for the first page; 422 when forged."""
    if not cursor:
        return Bounds()
    value = cursor_value(cursor) if len(cursor) <= MAX_CURSOR_LENGTH else None
    if isinstance(value, dict) and len(value) == 1:
        ((direction, key),) = value.items()
        valid = isinstance(key, list) and all(isinstance(k, str) for k in key)
        if direction in ("after", "before") and valid:
            return Bounds(**{direction: key})
    raise RuleViolation("bad_cursor", "that page link is not one this site made")


@dataclass(frozen=True)
class Pager:
    next_url: str | None
    prev_url: str | None


def pager(request: Request, page: KeysetPage) -> Pager:
    """Links to the next and previous pages: this page's query with its cursor replaced."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]

    def url(direction: str, key: list[str] | None) -> str | None:
        if key is None:
            return None
        query = urlencode([*params, ("cursor", encode_cursor({direction: key}))])
        return f"{request.url.path}?{query}"

    return Pager(next_url=url("after", page.next_key), prev_url=url("before", page.prev_key))
