"""Answer caching for the embedded search backends: per process, never across a write.

`search_meta` holds an epoch and two write generations bumped inside every write transaction
(any process): `gen_all` on any change, `gen_static` only when a change can move a count (a
document added or removed, or any field but version and blocked days changed, told by
`static_fingerprint`). A search reads them in its own snapshot; totals, facets and price
stats are cached per normalised match set under `gen_static` (under `gen_all` when dates
filter), pages under `gen_all`. A cached total lets the page be one ORDER BY/LIMIT (an index
walk for the empty query).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import text as sql_text

from application.search import SearchQuery, SearchResult
from infrastructure import search_embedded_facets as facets
from infrastructure.search_embedded import document_json
from infrastructure.search_embedded_geo import has_point, radius_meters
from infrastructure.search_embedded_sql import (
    Aggregates,
    aggregates_from_rows,
    assemble,
    page_from_rows,
)
from infrastructure.search_embedded_text import facet_key, key_or_none

Generation = tuple[str, int, int]  # (epoch, gen_all, gen_static) as read from search_meta


class AnswerCache:
    """A bounded LRU, thread-safe. Keys carry the generation they were computed under, so an
    entry from before a write is simply never asked for again and ages out."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def static_fingerprint(document: Mapping[str, Any]) -> str:
    """Everything of a document a count can depend on without a date filter: all but its
    version and blocked days. Equal fingerprints leave every undated aggregate unchanged."""
    rest = {k: v for k, v in document.items() if k not in _VOLATILE}
    return hashlib.blake2b(document_json(rest).encode(), digest_size=12).hexdigest()


_VOLATILE = frozenset({"version", "blocked_nights", "blocked_hours"})


def _sorted_keys(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(sorted({facet_key(v) for v in values}))


def match_key(query: SearchQuery, qwords: Sequence[str], prefix: bool) -> tuple[Any, ...]:
    """Everything that decides which documents match, normalised as the SQL compares it."""
    radius = None
    if has_point(query) and query.radius_km is not None:
        radius = (float(query.lat), float(query.lng), radius_meters(query.radius_km))  # type: ignore[arg-type]
    return (
        tuple(qwords),
        prefix and bool(qwords),
        key_or_none(query.category),
        key_or_none(query.currency),
        query.min_price,
        query.max_price,
        query.guests,
        query.units,
        _sorted_keys(query.amenities),
        query.instant_book,
        tuple(sorted(set(query.free_nights))),
        tuple(sorted(set(query.free_hours))),
        _sorted_keys(query.booking_units),
        None if query.bbox is None else tuple(float(v) for v in query.bbox),
        radius,
    )


def is_dated(query: SearchQuery) -> bool:
    return bool(query.free_nights or query.free_hours)


def aggregates_key(generation: Generation, query: SearchQuery, matched: tuple[Any, ...]) -> Any:
    epoch, gen_all, gen_static = generation
    return (epoch, gen_all if is_dated(query) else -1, gen_static, matched)


def page_key(generation: Generation, query: SearchQuery, matched: tuple[Any, ...]) -> Any:
    sort = query.sort
    if sort == "distance" and not has_point(query):
        sort = "relevance"
    point = (float(query.lat), float(query.lng)) if has_point(query) else None  # type: ignore[arg-type]
    return (generation, matched, sort, point, max(0, query.limit), max(0, query.offset))


class CachedSearch:
    """The caching both backends share around their one-statement search."""

    def __init__(
        self, aggregates_size: int = 2048, pages_size: int = 512, *, maintained: bool = True
    ) -> None:
        self.aggregates = AnswerCache(aggregates_size)
        self.pages = AnswerCache(pages_size)
        self.maintained = maintained  # read the maintained facet counts where they apply

    def cached_aggregates(self, key: Any, query: SearchQuery) -> Aggregates | None:
        found: Aggregates | None = self.aggregates.get(key)
        if found is not None and query.facets and found.facets is None:
            return None
        return found

    def clear(self) -> None:
        self.aggregates.clear()
        self.pages.clear()

    def answer(
        self,
        conn: Any,
        query: SearchQuery,
        matched: tuple[Any, ...],
        run: Callable[[bool], Sequence[Any]],
        scope: str | None = None,
    ) -> SearchResult:
        """Answers from the cache where it can, else `run(with_aggregates)` executes the
        backend's statement. With a maintained `scope` (see `search_embedded_facets`), total,
        facets and price range are read from its counts and `run` only fetches the page.
        Call inside one snapshot, so the generation read here and the rows `run` returns
        agree."""
        generation = read_generation(conn)
        akey = pkey = None
        aggregates = page = None
        if generation is not None:
            akey = aggregates_key(generation, query, matched)
            pkey = page_key(generation, query, matched)
            aggregates = self.cached_aggregates(akey, query)
            page = self.pages.get(pkey)
            if aggregates is not None and page is not None:
                return assemble(page, aggregates, query)
        if aggregates is None and scope is not None and self.maintained:
            aggregates = facets.read(conn, scope)
            if akey is not None:
                self.aggregates.put(akey, aggregates)
            if page is not None:
                return assemble(page, aggregates, query)
        rows = run(aggregates is None)
        page = page_from_rows(rows)
        if aggregates is None:
            aggregates = aggregates_from_rows(rows, query)
            if akey is not None:
                self.aggregates.put(akey, aggregates)
        if pkey is not None:
            self.pages.put(pkey, page)
        return assemble(page, aggregates, query)


# Every write moves gen_all; gen_static only when a document's undated aggregates may change.
BUMP_GENERATION = "UPDATE search_meta SET gen_all = gen_all + 1, gen_static = gen_static + :static"


def record_upserts(
    conn: Any, fresh: Sequence[Mapping[str, Any]], stored: Mapping[str, tuple[Any, ...]]
) -> dict[str, str]:
    """Inside the write transaction, before `fresh` documents replace their `stored` rows
    ((rid, version, fingerprint) by id): bumps the generation and moves the maintained facet
    counts from the replaced versions to the new ones. Returns the new static fingerprints."""
    fingerprints = {d["id"]: static_fingerprint(d) for d in fresh}
    changed = [
        d for d in fresh if d["id"] not in stored or stored[d["id"]][2] != fingerprints[d["id"]]
    ]
    conn.execute(sql_text(BUMP_GENERATION), {"static": int(bool(changed))})
    replaced = [stored[d["id"]][0] for d in changed if d["id"] in stored]
    facets.apply(conn, facets.stored_documents(conn, replaced), changed)
    return fingerprints


def read_generation_raw(raw: Any) -> Generation | None:
    """`read_generation` on the DB-API connection of the caller's transaction (sqlite3):
    a query's first read, without SQLAlchemy's statement and result machinery."""
    row = raw.execute("SELECT epoch, gen_all, gen_static FROM search_meta WHERE one = 1").fetchone()
    return None if row is None else (str(row[0]), int(row[1]), int(row[2]))


def read_generation(conn: Any) -> Generation | None:
    row = conn.execute(
        sql_text("SELECT epoch, gen_all, gen_static FROM search_meta WHERE one = 1")
    ).first()
    return None if row is None else (str(row[0]), int(row[1]), int(row[2]))
