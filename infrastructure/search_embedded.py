"""What the embedded search backends share: words, typo expansion, ranking SQL, geo maths.

They answer as `tests/search_fake.py` (the Meilisearch reference) does:
- Text is folded (NFKD, nonspacing marks dropped, lowercased) and split into words: runs of
  Unicode letters and digits. `category_data` leaves count (numbers as `str`, booleans as
  true/false); keys do not. Each document word keeps its best (lowest) attribute.
- A query word expands against the index vocabulary into derivations (word, cost, exact):
  itself (cost 0); words within its typo budget by optimal-string-alignment distance (1 from 5
  letters, 2 from 9), where a changed first letter counts as two typos; and, for the last
  word when the query does not end with a separator, every word that it, or a word within
  its budget, begins (cost of that beginning). Only the first ten query words count.
- Relevance is Meilisearch's `words` rule with matching strategy `last`: a document must match
  the first query word and ranks by how many leading query words it matches; over those:
  typos = sum of each word's cheapest derivation, attribute = sum of each word's best
  attribute among its cheapest derivations, exactness = how many occur verbatim; then rating
  desc, created_at desc, id asc. Both backends compute this in SQL from a postings relation
  (word, doc, attr), so only candidates are ranked and the page is cut by ORDER BY/LIMIT.
- Filter values (category, currency, booking mode/unit, amenities) compare by `facet_key`;
  facets count keys and show a stored spelling; `_geoRadius` is whole meters with geoutils'
  haversine; no page reaches past `MAX_TOTAL_HITS`.
- Answers are cached per process, never across a write: `search_meta` holds an epoch and two
  write generations bumped inside every write transaction (any process): `gen_all` on any
  change, `gen_static` only when a change can move a count (a document added or removed, or
  any field but version and blocked days changed, told by a fingerprint). A search reads them
  in its own snapshot; totals, facets and price stats are cached per normalised match set
  under `gen_static` (under `gen_all` when dates filter), pages under `gen_all`. A cached
  total lets the page be one ORDER BY/LIMIT (an index walk for the empty query).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import text as sql_text

from application.search import SearchHit, SearchIndexError, SearchQuery, SearchResult

EARTH_RADIUS_KM = 6371.0
EARTH_RADIUS_M = 6371e3
MAX_TOTAL_HITS = 1_000  # Meilisearch's maxTotalHits: no page reaches past it
MAX_FACET_VALUES = 100  # maxValuesPerFacet, the first ones alphabetically
MAX_QUERY_WORDS = 10
# Searchable attributes in weight order; a word's attribute is its index here.
ATTRIBUTES = (
    "title",
    "category",
    "category_data",
    "city",
    "country",
    "amenities",
    "description",
)
ATTRIBUTE_SLOTS = 8  # key = cost * ATTRIBUTE_SLOTS + attribute, so one MIN() orders both

_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def facet_key(value: Any) -> str:
    """Filter and facet values compare case-insensitively, as Meilisearch's filters do."""
    return unicodedata.normalize("NFKD", str(value).strip()).lower()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def typo_budget(word: str) -> int:
    return 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0


def _flatten(value: Any) -> Iterator[str]:
    """category_data values, depth first in key order; keys are not searchable."""
    if isinstance(value, Mapping):
        for key in sorted(value):
            yield from _flatten(value[key])
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, bool):
        yield "true" if value else "false"
    elif isinstance(value, str | int | float):
        yield str(value)


def attribute_texts(document: Mapping[str, Any]) -> Iterator[tuple[int, str]]:
    for attribute, name in enumerate(ATTRIBUTES):
        value = document.get(name)
        if name == "category_data" or isinstance(value, list):
            yield from ((attribute, text) for text in _flatten(value or {}))
        elif isinstance(value, str):
            yield attribute, value


def document_terms(document: Mapping[str, Any]) -> dict[str, int]:
    """Each word of the document with the best attribute it occurs in."""
    terms: dict[str, int] = {}
    for attribute, text in attribute_texts(document):
        for word in words(text):
            if attribute < terms.get(word, ATTRIBUTE_SLOTS):
                terms[word] = attribute
    return terms


@dataclass(frozen=True)
class Derivation:
    qi: int  # which query word
    word: str  # a vocabulary word it matches
    cost: int  # typos
    exact: int  # 1 when word is the query word itself


def typo_cost(term: str, word: str, distance: int) -> int | None:
    """A typo on the first letter counts as two (Meilisearch), so words of 5-8 letters must
    keep theirs and 9+ may change it only with no other typo."""
    budget = typo_budget(term)
    if word[:1] == term[:1]:
        return distance if distance <= budget else None
    return 2 if distance == 1 and budget == 2 else None


class Vocabulary:
    """An in-process copy of the index's append-only vocabulary table, refreshed by id so a
    query only reads the words added since the last one. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last_id = 0
        self._sorted: list[str] = []
        self._by_length: dict[int, list[str]] = {}
        self._prefixes: dict[int, list[str]] = {}  # length -> distinct prefixes, built lazily

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        with self._lock:
            fresh = [(i, w) for i, w in rows if i > self.last_id]
            if not fresh:
                return
            new_words = sorted({w for _, w in fresh} - set(self._sorted))
            if len(new_words) > 64:
                self._sorted = sorted({*self._sorted, *new_words})
            else:
                for word in new_words:
                    bisect.insort(self._sorted, word)
            for word in new_words:
                self._by_length.setdefault(len(word), []).append(word)
            self._prefixes = {}
            self.last_id = max(self.last_id, max(i for i, _ in fresh))

    def reset(self) -> None:
        with self._lock:
            self.last_id, self._sorted, self._by_length, self._prefixes = 0, [], {}, {}

    def expand(self, query_words: Sequence[str], *, prefix: bool) -> list[Derivation]:
        """Every vocabulary word each query word matches, at its cheapest cost; with
        `prefix`, the last query word also matches the words it (or a typo of it) begins."""
        with self._lock:
            out: list[Derivation] = []
            for qi, q in enumerate(query_words):
                is_prefix = prefix and qi == len(query_words) - 1
                best: dict[str, int] = {q: 0}  # the word itself, whether indexed or not
                budget = typo_budget(q)
                for n in range(max(1, len(q) - budget), len(q) + budget + 1) if budget else ():
                    pool = self._prefix_pool(n) if is_prefix else self._by_length.get(n, [])
                    for found, distance, _ in process.extract(
                        q, pool, scorer=OSA.distance, score_cutoff=budget, limit=None
                    ):
                        cost = typo_cost(q, found, int(distance))
                        if cost is None:
                            continue
                        for word in self._starting_with(found) if is_prefix else [found]:
                            if cost < best.get(word, budget + 1):
                                best[word] = cost
                if is_prefix:
                    for word in self._starting_with(q):
                        best[word] = 0
                out.extend(Derivation(qi, w, c, int(w == q)) for w, c in best.items())
            return out

    def _starting_with(self, head: str) -> Iterator[str]:
        i = bisect.bisect_left(self._sorted, head)
        while i < len(self._sorted) and self._sorted[i].startswith(head):
            yield self._sorted[i]
            i += 1

    def _prefix_pool(self, length: int) -> list[str]:
        pool = self._prefixes.get(length)
        if pool is None:
            pool = sorted({w[:length] for w in self._sorted if len(w) >= length})
            self._prefixes[length] = pool
        return pool


def query_terms(q: str) -> tuple[list[str], bool]:
    """The query's words, and whether the last one is a prefix: not when the query ends
    with a separator ("stud " asks for the word "stud")."""
    folded = fold(q)
    return words(q)[:MAX_QUERY_WORDS], bool(folded) and bool(_WORD.fullmatch(folded[-1]))


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """geoutils' haversine, as Meilisearch's `_geoRadius` and `_geoPoint` use it; the
    PostgreSQL backend evaluates the same operations in SQL, so every backend agrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    l1, l2 = math.radians(lng1), math.radians(lng2)
    total = (1.0 - math.cos(p2 - p1)) / 2.0 + math.cos(p1) * math.cos(p2) * (
        (1.0 - math.cos(l2 - l1)) / 2.0
    )
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, total)))


def radius_meters(radius_km: float) -> int:
    """Meilisearch's radius is whole meters."""
    return math.floor(radius_km * 1000 + 0.5)


def distance_km(meters: float | None) -> float | None:
    """`_geoDistance` is whole meters; hits carry it in km."""
    return None if meters is None else round(math.floor(meters + 0.5) / 1000, 3)


def radius_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """A lat/lng box holding the circle, widened by 1% so float noise never cuts a hit;
    the lng range is (-inf, inf) when the circle reaches a pole or the antimeridian."""
    reach = radius_km * 1.01 + 0.001
    d_lat = math.degrees(reach / EARTH_RADIUS_KM)
    lo_lat, hi_lat = lat - d_lat, lat + d_lat
    if lo_lat <= -90 or hi_lat >= 90:
        return lo_lat, hi_lat, -math.inf, math.inf
    d_lng = math.degrees(
        reach / (EARTH_RADIUS_KM * math.cos(math.radians(max(abs(lo_lat), abs(hi_lat)))))
    )
    if lng - d_lng < -180 or lng + d_lng > 180:
        return lo_lat, hi_lat, -math.inf, math.inf
    return lo_lat, hi_lat, lng - d_lng, lng + d_lng


def has_point(query: SearchQuery) -> bool:
    return query.lat is not None and query.lng is not None


def scoring_ctes(n_words: int, postings: str) -> str:
    """`qt(qi, word, cost, ex)` and `postings` (doc, word, attr) in; `score(doc, words,
    typo, attr, ex)` out: one row per document matching the first query word."""
    cols = ", ".join(
        f"MIN(CASE WHEN qi = {i} THEN key END) AS k{i}, MAX(CASE WHEN qi = {i} THEN ex END) AS e{i}"
        for i in range(n_words)
    )
    words_expr = (
        "CASE "
        + " ".join(
            f"WHEN mask & {(1 << (i + 1)) - 1} <> {(1 << (i + 1)) - 1} THEN {i}"
            for i in range(n_words)
        )
        + f" ELSE {n_words} END"
    )

    def over_leading(term: str) -> str:
        arms = " ".join(
            f"WHEN {k} THEN " + " + ".join(term.format(i=i) for i in range(k))
            for k in range(1, n_words + 1)
        )
        return f"CASE words {arms} END"

    typo = over_leading(f"k{{i}} / {ATTRIBUTE_SLOTS}")
    attr = over_leading(f"k{{i}} % {ATTRIBUTE_SLOTS}")
    ex = over_leading("e{i}")
    return f"""
    m AS (
        SELECT p.doc AS doc, qt.qi AS qi, MIN(qt.cost * {ATTRIBUTE_SLOTS} + p.attr) AS key,
               MAX(qt.ex) AS ex
        FROM qt JOIN {postings} p ON p.word = qt.word
        GROUP BY p.doc, qt.qi
    ),
    r AS (SELECT doc, SUM(1 << qi) AS mask, {cols} FROM m GROUP BY doc),
    w AS (SELECT r.*, {words_expr} AS words FROM r),
    score AS (
        SELECT doc, words, {typo} AS typo, {attr} AS attr, {ex} AS ex FROM w WHERE words >= 1
    )"""


RANK_TIEBREAK = "rating DESC, created_at DESC, id ASC"


def order_by(query: SearchQuery, *, text: bool) -> str:
    """ORDER BY over columns words, typo, attr, ex, price_amount, rating, created_at, id,
    dist. An explicit sort is primary and the relevance rules never apply after it."""
    sort = query.sort
    if sort == "distance" and not has_point(query):
        sort = "relevance"
    head = {
        "price_asc": "price_amount ASC, ",
        "price_desc": "price_amount DESC, ",
        "rating": "rating DESC, ",
        "newest": "created_at DESC, ",
        "distance": "dist IS NULL, dist ASC, ",
        "relevance": "words DESC, typo ASC, attr ASC, ex DESC, " if text else "",
    }[sort]
    return head + RANK_TIEBREAK


def newest_per_id(documents: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """One document per id: the highest version (the later one on a tie)."""
    out: dict[str, Mapping[str, Any]] = {}
    for doc in documents:
        held = out.get(doc["id"])
        if held is None or int(doc["version"]) >= int(held["version"]):
            out[doc["id"]] = doc
    return out


def accepted(doc: Mapping[str, Any], stored: int | None, deleted: int | None) -> bool:
    """Equal versions replace (idempotent replays); a delete at v blocks versions <= v."""
    version = int(doc["version"])
    return (stored is None or version >= stored) and (deleted is None or version > deleted)


def document_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def geo_of(document: Mapping[str, Any]) -> tuple[float | None, float | None]:
    geo = document.get("_geo") or {}
    lat, lng = geo.get("lat"), geo.get("lng")
    return (None, None) if lat is None or lng is None else (float(lat), float(lng))


def scalar_filters(query: SearchQuery, params: dict[str, Any]) -> list[str]:
    """Filters on plain columns of the documents table `d`, shared by both dialects."""
    where: list[str] = []

    def add(clause: str, **values: Any) -> None:
        where.append(clause)
        params.update(values)

    if query.category is not None:
        add("d.category = :category", category=facet_key(query.category))
    if query.currency is not None:
        add("d.currency = :currency", currency=facet_key(query.currency))
    if query.min_price is not None:
        add("d.price_amount >= :min_price", min_price=query.min_price)
    if query.max_price is not None:
        add("d.price_amount <= :max_price", max_price=query.max_price)
    if query.guests is not None:
        add("d.capacity >= :guests", guests=query.guests)
    if query.units is not None:
        add("d.units >= :units", units=query.units)
    if query.instant_book is not None:
        add("d.booking_mode = :mode", mode="instant" if query.instant_book else "request")
    if query.bbox is not None:
        top, left, bottom, right = query.bbox
        add("d.lat BETWEEN :bb_bottom AND :bb_top", bb_bottom=bottom, bb_top=top)
        params.update(bb_left=left, bb_right=right)
        where.append(
            "d.lng BETWEEN :bb_left AND :bb_right"
            if left <= right
            else "(d.lng >= :bb_left OR d.lng <= :bb_right)"  # across the antimeridian
        )
    if has_point(query) and query.radius_km is not None:
        assert query.lat is not None and query.lng is not None
        reach_km = radius_meters(query.radius_km) / 1000
        lo_lat, hi_lat, lo_lng, hi_lng = radius_box(query.lat, query.lng, reach_km)
        add("d.lat BETWEEN :rb_lo_lat AND :rb_hi_lat", rb_lo_lat=lo_lat, rb_hi_lat=hi_lat)
        if math.isfinite(lo_lng):
            add("d.lng BETWEEN :rb_lo_lng AND :rb_hi_lng", rb_lo_lng=lo_lng, rb_hi_lng=hi_lng)
    return where


@dataclass(frozen=True)
class Aggregates:
    """What a query's whole match set yields: exact total, facets, price stats."""

    total: int
    facets: dict[str, dict[str, int]] | None  # None when not computed (query.facets off)
    price_stats: dict[str, int] | None


Page = tuple[tuple[str, float | None], ...]  # (body JSON, distance in meters) per hit


def page_from_rows(rows: Sequence[Any]) -> Page:
    hits = sorted((r for r in rows if r.part == 0), key=lambda r: r.pos)
    return tuple((r.body, r.dist) for r in hits)


def aggregates_from_rows(rows: Sequence[Any], query: SearchQuery) -> Aggregates:
    """Rows tagged by part: 1 totals (n, lo, hi), 2/3 facet counts (k the value's key, body
    its label, n)."""
    (total,) = [r for r in rows if r.part == 1]
    facets: dict[str, dict[str, int]] | None = None
    if query.facets:
        facets = {
            name: {
                r.body: int(r.n)
                for r in sorted((r for r in rows if r.part == part), key=lambda r: r.k)[
                    :MAX_FACET_VALUES
                ]
            }
            for name, part in (("category", 2), ("amenities", 3))
        }
    price_stats = None if total.lo is None else {"min": int(total.lo), "max": int(total.hi)}
    return Aggregates(int(total.n), facets, price_stats)


def assemble(page: Page, aggregates: Aggregates, query: SearchQuery) -> SearchResult:
    """A fresh result (documents parsed anew, so callers never share cached objects)."""
    return SearchResult(
        hits=[
            SearchHit(
                document=json.loads(body),
                distance_km=distance_km(dist) if has_point(query) else None,
            )
            for body, dist in page
        ],
        total_estimate=aggregates.total,
        facets={k: dict(v) for k, v in aggregates.facets.items()}
        if query.facets and aggregates.facets is not None
        else {},
        price_stats=dict(aggregates.price_stats)
        if query.facets and aggregates.price_stats is not None
        else None,
    )


def result_from_rows(rows: Sequence[Any], query: SearchQuery) -> SearchResult:
    """Rows tagged by part: 0 hits (pos, body, dist), 1 totals, 2/3 facet counts."""
    return assemble(page_from_rows(rows), aggregates_from_rows(rows, query), query)


def search_sql(
    query: SearchQuery,
    params: dict[str, Any],
    *,
    where: list[str],
    dist: str,
    n_words: int,
    qt: str | None,
    postings: str,
    amenities_facet: str,
    extra_columns: str = "",
    aggregates: bool = True,
) -> str:
    """One statement answering a query, rows tagged by `part` (see `result_from_rows`):
    the matches are computed once (MATERIALIZED) and feed the page, totals and facets.
    `dist` is in meters; `amenities_facet` yields (k, label, n) over `matches`. Without
    `aggregates` (a cached total), only the page: the planner may then walk a sort index."""
    offset = max(0, query.offset)
    params.update(limit=max(0, min(query.limit, MAX_TOTAL_HITS - offset)), offset=offset)
    ctes, source, rank = "", "search_docs d", "0 AS words, 0 AS typo, 0 AS attr, 0 AS ex"
    if qt is not None:
        ctes = f"qt AS ({qt}),{scoring_ctes(n_words, postings)},"
        source = "score s JOIN search_docs d ON d.rid = s.doc"
        rank = "s.words, s.typo, s.attr, s.ex"
    radius = ""
    if has_point(query) and query.radius_km is not None:
        params["radius_m"] = radius_meters(query.radius_km)
        radius = "WHERE dist <= :radius_m"
    order = order_by(query, text=qt is not None)
    filters = "WHERE " + " AND ".join(where) if where else ""
    if not aggregates:
        if qt is None and not has_point(query):
            # Plain filters and sort columns on search_docs: ORDER BY/LIMIT can walk an index.
            return f"""
    SELECT 0 AS part, ROW_NUMBER() OVER (ORDER BY {order}) AS pos, b.body, h.dist
    FROM (
        SELECT d.rid, d.id, d.price_amount, d.rating, d.created_at, {dist} AS dist
        FROM search_docs d {filters}
        ORDER BY {order} LIMIT :limit OFFSET :offset
    ) h JOIN search_bodies b ON b.rid = h.rid"""
        return f"""
    WITH {ctes}
    base AS (
        SELECT d.rid, d.id, d.price_amount, d.rating, d.created_at, {dist} AS dist, {rank}
        FROM {source} {filters}
    )
    SELECT 0 AS part, h.pos, b.body, h.dist
    FROM (
        SELECT ROW_NUMBER() OVER (ORDER BY {order}) AS pos, rid, dist FROM (
            SELECT * FROM base {radius} ORDER BY {order} LIMIT :limit OFFSET :offset
        ) page
    ) h JOIN search_bodies b ON b.rid = h.rid"""
    sql = f"""
    WITH {ctes}
    base AS (
        SELECT d.rid, d.id, d.category, d.category_label, d.price_amount, d.rating, d.created_at,
               {dist} AS dist, {rank}{extra_columns}
        FROM {source} {filters}
    ),
    matches AS MATERIALIZED (SELECT * FROM base {radius})
    SELECT 0 AS part, h.pos, d.body, h.dist, NULL AS k, NULL AS n, NULL AS lo, NULL AS hi
    FROM (
        SELECT ROW_NUMBER() OVER (ORDER BY {order}) AS pos, rid, dist FROM (
            SELECT * FROM matches ORDER BY {order} LIMIT :limit OFFSET :offset
        ) page
    ) h JOIN search_bodies d ON d.rid = h.rid
    UNION ALL
    SELECT 1, NULL, NULL, NULL, NULL, COUNT(*), MIN(price_amount), MAX(price_amount)
    FROM matches"""
    if query.facets:
        sql += f"""
    UNION ALL
    SELECT 2, NULL, MIN(category_label), NULL, category, COUNT(*), NULL, NULL FROM matches
    WHERE category IS NOT NULL GROUP BY category
    UNION ALL
    SELECT 3, NULL, facet.label, NULL, facet.k, facet.n, NULL, NULL
    FROM ({amenities_facet}) facet"""
    return sql


# -- answer caching ------------------------------------------------------------------------

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

    def __init__(self, aggregates_size: int = 2048, pages_size: int = 512) -> None:
        self.aggregates = AnswerCache(aggregates_size)
        self.pages = AnswerCache(pages_size)

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
    ) -> SearchResult:
        """Answers from the cache where it can, else `run(with_aggregates)` executes the
        backend's statement. Call inside one snapshot, so the generation read here and the
        rows `run` returns agree."""
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
        rows = run(aggregates is None)
        page = page_from_rows(rows)
        if aggregates is None:
            aggregates = aggregates_from_rows(rows, query)
            if akey is not None:
                self.aggregates.put(akey, aggregates)
        if pkey is not None:
            self.pages.put(pkey, page)
        return assemble(page, aggregates, query)


def read_generation(conn: Any) -> Generation | None:
    row = conn.execute(
        sql_text("SELECT epoch, gen_all, gen_static FROM search_meta WHERE one = 1")
    ).first()
    return None if row is None else (str(row[0]), int(row[1]), int(row[2]))


def check_documents(documents: Sequence[Mapping[str, Any]]) -> None:
    """Refuses the whole batch, as a Meilisearch task fails: ids and `_geo` must be valid."""
    for doc in documents:
        if not isinstance(doc.get("id"), str) or not doc["id"]:
            raise SearchIndexError(f"missing_document_id: {doc.get('id')!r}")
        geo = doc.get("_geo")
        lat, lng = (geo.get("lat"), geo.get("lng")) if isinstance(geo, Mapping) else (None, None)
        if not (
            isinstance(lat, int | float)
            and isinstance(lng, int | float)
            and not isinstance(lat, bool)
            and not isinstance(lng, bool)
            and -90 <= lat <= 90
            and -180 <= lng <= 180
        ):
            raise SearchIndexError(f"invalid_document_geo_field: {doc['id']}")


def amenity_keys(document: Mapping[str, Any]) -> dict[str, str]:
    """Each amenity's key with its first spelling (the facet label)."""
    keys: dict[str, str] = {}
    for amenity in document.get("amenities") or ():
        keys.setdefault(facet_key(amenity), str(amenity))
    return keys


def key_or_none(value: Any) -> str | None:
    return None if value is None else facet_key(value)
