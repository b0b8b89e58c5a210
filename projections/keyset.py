"""Keyset pages that go both ways, for lists a person pages through with "Next" and
"Previous": the rows after a key (or before one) in a stable order given by unique keys, and
the keys to continue from in each direction. No offsets, so a page stays right while rows
are added or removed elsewhere in the list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Connection, DateTime, Integer, Table, and_, exists, or_, select

from domain.errors import RuleViolation
from projections.listings import utc


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    next_key: list[str] | None  # continue after it for the next page; None at the end
    prev_key: list[str] | None  # continue before it for the previous page; None at the start


def key_text(value: Any) -> str:
    """A key value as the text a cursor carries (instants in UTC)."""
    return (utc(value) or value).isoformat() if isinstance(value, datetime) else str(value)


def _parse(column: Column[Any], text: Any) -> Any:
    if not isinstance(text, str):
        raise ValueError(text)
    if isinstance(column.type, DateTime):
        return utc(datetime.fromisoformat(text))
    if isinstance(column.type, Integer):
        return int(text)
    if column.type.python_type is UUID:
        return UUID(text)
    return text


def _beyond(keys: Sequence[Column[Any]], values: Sequence[Any], greater: bool) -> Any:
    """Rows whose keys come after `values` in ascending order (`greater`) or before."""
    terms = []
    for i, key in enumerate(keys):
        step = key > values[i] if greater else key < values[i]
        terms.append(and_(*(keys[j] == values[j] for j in range(i)), step))
    return or_(*terms)


def keyset_page(
    conn: Connection,
    table: Table,
    where: Sequence[Any],
    keys: Sequence[Column[Any]],
    *,
    descending: bool = False,
    limit: int = 50,
    after: Sequence[str] | None = None,
    before: Sequence[str] | None = None,
) -> KeysetPage:
    """Up to `limit` rows of `table` matching `where`, ordered by `keys` (which together are
    unique: end them with the id), after the key `after` or before the key `before` (texts
    from `KeysetPage`; a malformed one is a 422 `bad_cursor`)."""
    boundary = before if before is not None else after
    values: list[Any] | None = None
    if boundary is not None:
        try:
            if len(boundary) != len(keys):
                raise ValueError(boundary)
            values = [_parse(k, v) for k, v in zip(keys, boundary, strict=True)]
        except (ValueError, TypeError):
            raise RuleViolation("bad_cursor", "the cursor is not one this page issued") from None
    backward = before is not None
    forward_greater = not descending  # "later in the list" is a greater key when ascending
    conditions = list(where)
    if values is not None:
        conditions.append(_beyond(keys, values, forward_greater != backward))
    order = [k.asc() if forward_greater != backward else k.desc() for k in keys]
    stmt = select(table).where(*conditions).order_by(*order).limit(limit + 1)
    rows = list(conn.execute(stmt).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()

    def key_of(row: Any) -> list[Any]:
        return [row[k.name] for k in keys]

    def any_beyond(key: list[Any], later: bool) -> bool:
        clause = _beyond(keys, key, forward_greater == later)
        return bool(conn.execute(select(exists().where(*where, clause))).scalar())

    first = key_of(rows[0]) if rows else values
    last = key_of(rows[-1]) if rows else values
    has_next = more if not backward else last is not None and any_beyond(last, later=True)
    has_prev = more if backward else first is not None and any_beyond(first, later=False)
    return KeysetPage(
        rows=rows,
        next_key=[key_text(v) for v in last] if has_next and last is not None else None,
        prev_key=[key_text(v) for v in first] if has_prev and first is not None else None,
    )
