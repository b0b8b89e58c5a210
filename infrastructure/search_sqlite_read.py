"""The SQLite search backend's read connection and its column-store answers.

A query the current column store can answer runs on a pooled DB-API connection in one
read snapshot (`BEGIN` ... `ROLLBACK`, as `views_db` begins a read), without SQLAlchemy's
`Connection` and transaction objects: their checkout, begin and close were ~7% of a
search's CPU over HTTP (issue #9). The store, the page's bodies and the dated probes read
only through the DB-API connection either way.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine

from application.search import SearchQuery, SearchResult
from infrastructure import search_columns_query as columns
from infrastructure.search_columns import ColumnStore
from infrastructure.search_embedded_cache import Generation, read_generation_raw
from infrastructure.search_embedded_geo import haversine_m
from infrastructure.search_embedded_text import Vocabulary

# Each pooled connection's mmap (or big page cache) holds its own resident copy of the pages
# it touched, counted again per connection (10-30 of them); pread from the OS page cache is not.
READ_PRAGMAS = ("PRAGMA cache_size=-2048", "PRAGMA mmap_size=0", "PRAGMA temp_store=MEMORY")


def prepare(db: sqlite3.Connection, info: dict[Any, Any]) -> None:
    """A pooled connection's first search: the distance function and the read pragmas
    (outside any transaction); `info`: the pool's per-connection dict."""
    if not info.get("rb_search_ready"):
        db.create_function("rb_haversine", 4, _haversine_or_null, deterministic=True)
        for pragma in READ_PRAGMAS:
            db.execute(pragma)
        info["rb_search_ready"] = True


def _haversine_or_null(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> float | None:
    if lat2 is None or lng2 is None:
        return None
    return haversine_m(lat1, lng1, lat2, lng2)


def refresh_vocabulary(db: sqlite3.Connection, vocabulary: Vocabulary) -> None:
    rows = db.execute(
        "SELECT id, word FROM search_vocab WHERE id > ? ORDER BY id", (vocabulary.last_id,)
    ).fetchall()
    vocabulary.add((int(i), str(w)) for i, w in rows)


def store_answer(
    db: sqlite3.Connection,
    store: ColumnStore,
    vocabulary: Vocabulary,
    query: SearchQuery,
    terms: tuple[list[str], bool],
    generation: Generation | None,
) -> SearchResult:
    """`query` from `store`, in `db`'s snapshot (which shows `generation`)."""
    qwords, prefix = terms
    if qwords:
        refresh_vocabulary(db, vocabulary)
    derived = vocabulary.expand(qwords, prefix=prefix) if qwords else None
    gen_all = generation[1] if generation else 0  # a store has one
    return columns.answer(db, store, query, derived, len(qwords), gen_all)


def from_store(
    engine: Engine,
    store: ColumnStore,
    vocabulary: Vocabulary,
    query: SearchQuery,
    terms: tuple[list[str], bool],
) -> SearchResult | None:
    """`store_answer` on a pooled DB-API connection; None when its snapshot shows a
    generation `store` is not of (the caller takes the SQLAlchemy path, which builds)."""
    pooled = engine.raw_connection()
    try:
        db = pooled.driver_connection
        assert isinstance(db, sqlite3.Connection)
        prepare(db, pooled.info)
        db.execute("BEGIN")
        try:
            generation = read_generation_raw(db)
            if generation is None or store.generation != (generation[0], generation[2]):
                return None
            return store_answer(db, store, vocabulary, query, terms, generation)
        finally:
            db.execute("ROLLBACK")
    finally:
        pooled.close()
