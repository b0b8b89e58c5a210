"""Lists: `limit` (1-100, default 20) and an opaque `cursor` in, `Page[T]` out.

@router.get("/me/things")
def my_things(page: PageParamsDep, ...) -> Page[ThingPublic]:
    after = decode_cursor(page.cursor)            # {} on the first page
    rows = query(after=after.get("k"), limit=page.limit + 1)
    return page_of(rows, page.limit, lambda row: {"k": row.key}, ThingPublic.from_row)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query

from interfaces.cursors import cursor_value
from interfaces.cursors import encode_cursor as encode_cursor  # the routes' import
from interfaces.http.problems import ProblemError
from interfaces.http.schemas_common import Page

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 1024

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


async def get_page_params(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size."),
    cursor: str | None = Query(
        None, max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page."
    ),
) -> PageParams:
    return PageParams(limit, cursor or None)


PageParamsDep = Annotated[PageParams, Depends(get_page_params)]


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    """The dict `encode_cursor` was given; {} for no cursor; 422 for a forged one."""
    if not cursor:
        return {}
    value = cursor_value(cursor)
    if not isinstance(value, dict):
        raise ProblemError(422, "invalid_cursor", "the cursor is not one this API issued")
    return value


def page_of(
    rows: Sequence[R],
    limit: int,
    cursor_of: Callable[[R], dict[str, Any]],
    convert: Callable[[R], T],
) -> Page[T]:
    """Builds a page from up to `limit + 1` rows: the extra row only says there is more."""
    more = len(rows) > limit
    shown = rows[:limit]
    next_cursor = encode_cursor(cursor_of(shown[-1])) if more and shown else None
    return Page[T](data=[convert(r) for r in shown], next_cursor=next_cursor)


def offset_page(items: Sequence[T], page: PageParams) -> Page[T]:
    """Pages an in-memory list (small lists only) with an offset cursor."""
    start = decode_cursor(page.cursor).get("o", 0)
    if not isinstance(start, int) or start < 0:
        raise ProblemError(422, "invalid_cursor", "the cursor is not one this API issued")
    window = list(items[start : start + page.limit + 1])
    more = len(window) > page.limit
    next_cursor = encode_cursor({"o": start + page.limit}) if more else None
    return Page[T](data=window[: page.limit], next_cursor=next_cursor)
