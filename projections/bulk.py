"""Set-based statements for PostgreSQL: a whole page of rows in one statement, sent as one
array per column and spread out server-side by `unnest`.

    INSERT INTO t (a, b) SELECT * FROM unnest(%b::uuid[], %b::integer[]) ON CONFLICT ...
    SELECT ... FROM t WHERE id = ANY(%b::uuid[])

One statement per page rather than one bind per row: the rows cross the driver as a few
arrays, and the SQL text is the same whatever the page size, so it is built once per table
shape and PostgreSQL plans it once. The arrays go in binary (`%b`): psycopg's text format
builds each array literal in Python, escaping every element (7 us per JSON value, 3 per
timestamp, against 0.2 us in binary for everything but JSON). Values go through each column's
own bind processor first, so what is stored is what SQLAlchemy would have stored row by row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect, String, Table
from sqlalchemy.types import TypeEngine

_Processor = Callable[[Any], Any] | None
_sql_cache: dict[tuple[Any, ...], tuple[Table, str, list[_Processor]]] = {}
_results_cache: dict[tuple[Any, ...], tuple[Table, list[str], list[_Processor]]] = {}
_procs_cache: dict[tuple[Any, ...], tuple[Table, list[_Processor]]] = {}
# Keyed by table object: a rebuild (an erasure repairs the personal views) makes new ones,
# so the oldest entries go past this many (far above one process's table shapes).
CACHED_SHAPES = 2048
_caches_lock = threading.Lock()
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class Conflict:
    """What an upsert does on a conflict over `key` (see `pg_upsert`); hashable, so it keys
    the statement caches of both the unnest and the staged upsert."""

    key: tuple[str, ...]
    newer: str | None = None
    add: tuple[str, ...] = ()
    keep_existing: bool = False


def _keep(cache: dict[tuple[Any, ...], _V], key: tuple[Any, ...], value: _V) -> _V:
    with _caches_lock:
        cache[key] = value
        while len(cache) > CACHED_SHAPES:
            del cache[next(iter(cache))]  # the oldest
    return value


def pg_upsert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    newer: str | None = None,
    add: Sequence[str] = (),
    keep_existing: bool = False,
) -> None:
    """Inserts `rows` (each with exactly `columns`) in one statement. On a conflict over
    `key`: nothing when `keep_existing` (or when every column is a key), `add` columns are
    summed, the others replaced — only where the stored `newer` is lower, if given."""
    conflict = Conflict(tuple(key), newer, tuple(add), keep_existing)
    cache_key = ("upsert", id(table), tuple(columns), conflict)
    cached = _sql_cache.get(cache_key)
    if cached is None or cached[0] is not table:
        sql, procs = _upsert_sql(conn, table, columns, conflict)
        cached = _keep(_sql_cache, cache_key, (table, sql, procs))
    _, sql, procs = cached
    arrays = tuple(_column(rows, c, p) for c, p in zip(columns, procs, strict=True))
    conn.exec_driver_sql(sql, arrays)


def pg_select_in(
    conn: Connection, table: Table, key: str, ids: Iterable[Any]
) -> list[dict[str, Any]]:
    """The rows of `table` whose `key` is one of `ids`, as dicts."""
    wanted = [(i,) for i in ids]
    return _select(conn, table, (key,), wanted, "WHERE {c} = ANY({a0})")


def pg_select_keys(
    conn: Connection, table: Table, columns: Sequence[str], keys: Sequence[Sequence[Any]]
) -> list[dict[str, Any]]:
    """The rows of `table` whose `columns` equal one of `keys` (tuples), as dicts: one
    statement whatever the count (a tuple IN list binds two parameters a key, and each
    length is another statement to compile and convert)."""
    return _select(conn, table, columns, keys, "WHERE ({c}) IN (SELECT * FROM unnest({a}))")


def pg_delete_keys(
    conn: Connection, table: Table, columns: Sequence[str], keys: Sequence[Sequence[Any]]
) -> None:
    """Deletes the rows of `table` whose `columns` equal one of `keys`, in one statement."""
    if keys:
        template = "DELETE FROM {t} WHERE ({c}) IN (SELECT * FROM unnest({a}))"
        sql, procs = _keyed(conn, table, columns, template)
        conn.exec_driver_sql(sql, _arrays(keys, procs))


def bind_processors(conn: Connection, table: Table, columns: Sequence[str]) -> list[_Processor]:
    """The columns' own bind processors (what SQLAlchemy does to a value before the driver),
    remembered per table and columns."""
    cache_key = ("procs", id(table), tuple(columns))
    cached = _procs_cache.get(cache_key)
    if cached is None or cached[0] is not table:
        dialect = conn.dialect
        procs: list[_Processor] = [
            table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
        ]
        cached = _keep(_procs_cache, cache_key, (table, procs))
    return cached[1]


def array_cast(type_: TypeEngine[Any], dialect: Dialect) -> str:
    """A binary array parameter cast to the column's type, a string's length left out.

    One rule on every write path: an over-long string is refused, never cut short. COPY (a
    rebuild's fresh tables, the staged upsert) refuses it, and so does the INSERT's assignment
    cast to varchar(n); but an explicit cast (`%b::varchar(n)[]`) silently truncates, which
    would store a different row than a rebuild (that stops at the same event instead). A
    refusal stops the view at that event (tracking status `error`), visible and fixed by
    widening the column; a truncation loses data unseen. Every source that feeds a bounded
    column is bounded no higher at the API or in the domain (tests/projections/
    test_string_limits.py), so a refusal is a bug to fix, not an input to expect. As a key
    (selects, deletes), an over-long value then matches nothing rather than its prefix."""
    if isinstance(type_, String) and type_.length is not None:
        type_ = type_.copy()
        type_.length = None
    return f"%b::{type_.compile(dialect=dialect)}[]"  # binary: dumped in C


def _select(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    keys: Sequence[Sequence[Any]],
    where: str,
) -> list[dict[str, Any]]:
    """Selected through the driver, key arrays in binary (SQLAlchemy sends an ARRAY
    parameter as text, built element by element in Python); each column's own result
    processor runs, so the rows are what SQLAlchemy would have returned."""
    if not keys:
        return []
    sql, procs = _keyed(conn, table, columns, f"SELECT {_listed(conn, table)} FROM {{t}} {where}")
    result = conn.exec_driver_sql(sql, _arrays(keys, procs))
    names, loaders = _loaders(conn, table, result.cursor.description)
    found = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    for name, load in zip(names, loaders, strict=True):
        if load is not None:
            for row in found:
                row[name] = load(row[name])
    return found


def _listed(conn: Connection, table: Table) -> str:
    return ", ".join(conn.dialect.identifier_preparer.quote(c.name) for c in table.c)


def _loaders(
    conn: Connection, table: Table, description: Any
) -> tuple[list[str], list[_Processor]]:
    """The columns' names and result processors (some need the driver's type code)."""
    cache_key = ("results", id(table))
    cached = _results_cache.get(cache_key)
    if cached is None or cached[0] is not table:
        dialect = conn.dialect
        loaders: list[_Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, d.type_code)
            for c, d in zip(table.c, description, strict=True)
        ]
        cached = _keep(_results_cache, cache_key, (table, [c.name for c in table.c], loaders))
    return cached[1], cached[2]


def _keyed(
    conn: Connection, table: Table, columns: Sequence[str], template: str
) -> tuple[str, list[_Processor]]:
    """`template` with {t} the table, {c} the columns, {a} their arrays (and {a0} the
    first), binary and cast to the columns' types; and the columns' bind processors."""
    cache_key = ("keyed", id(table), tuple(columns), template)
    cached = _sql_cache.get(cache_key)
    if cached is None or cached[0] is not table:
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        procs: list[_Processor] = []
        casts: list[str] = []
        for c in columns:
            type_ = table.c[c].type
            procs.append(type_.dialect_impl(dialect).bind_processor(dialect))
            casts.append(array_cast(type_, dialect))
        sql = template.format(
            t=dialect.identifier_preparer.format_table(table),
            c=", ".join(quote(c) for c in columns),
            a=", ".join(casts),
            a0=casts[0],
        )
        cached = _keep(_sql_cache, cache_key, (table, sql, procs))
    return cached[1], cached[2]


def _arrays(keys: Sequence[Sequence[Any]], procs: Sequence[_Processor]) -> tuple[list[Any], ...]:
    return tuple(
        [k[i] for k in keys] if p is None else [p(k[i]) for k in keys] for i, p in enumerate(procs)
    )


def _column(rows: Sequence[Mapping[str, Any]], name: str, proc: _Processor) -> list[Any]:
    if proc is None:
        return [row[name] for row in rows]
    return [proc(row[name]) for row in rows]


def _upsert_sql(
    conn: Connection, table: Table, columns: Sequence[str], conflict: Conflict
) -> tuple[str, list[_Processor]]:
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    casts: list[str] = []
    procs: list[_Processor] = []
    for c in columns:
        type_ = table.c[c].type
        procs.append(type_.dialect_impl(dialect).bind_processor(dialect))
        casts.append(array_cast(type_, dialect))
    names = ", ".join(quote(c) for c in columns)
    sql = f"INSERT INTO {name} ({names}) SELECT * FROM unnest({', '.join(casts)})"
    return sql + upsert_conflict(conn, table, columns, conflict), procs


def upsert_conflict(
    conn: Connection, table: Table, columns: Sequence[str], conflict: Conflict
) -> str:
    """The ON CONFLICT clause of `pg_upsert`'s INSERT (shared by the staged upsert)."""
    quote = conn.dialect.identifier_preparer.quote
    name = conn.dialect.identifier_preparer.format_table(table)
    clause = f" ON CONFLICT ({', '.join(quote(k) for k in conflict.key)})"
    updates = [c for c in columns if c not in conflict.key]
    if conflict.keep_existing or not updates:
        return clause + " DO NOTHING"
    sets = ", ".join(
        f"{quote(c)} = {name}.{quote(c)} + EXCLUDED.{quote(c)}"
        if c in conflict.add
        else f"{quote(c)} = EXCLUDED.{quote(c)}"
        for c in updates
    )
    newer = conflict.newer
    where = f" WHERE {name}.{quote(newer)} < EXCLUDED.{quote(newer)}" if newer else ""
    return clause + f" DO UPDATE SET {sets}{where}"
