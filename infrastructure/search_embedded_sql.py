"""The ranking SQL the embedded search backends share, and reading its rows into a result.

Relevance is Meilisearch's `words` rule with matching strategy `last`: a document must match
the first query word and ranks by how many leading query words it matches; over those:
typos = sum of each word's cheapest derivation, attribute = sum of each word's best attribute
among its cheapest derivations, exactness = how many occur verbatim; then rating desc,
created_at desc, id asc. Both backends compute this in SQL from a postings relation (word,
doc, attr), so only candidates are ranked and the page is cut by ORDER BY/LIMIT; facets
count keys and show a stored spelling; no page reaches past `MAX_TOTAL_HITS`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from application.search import SearchHit, SearchQuery, SearchResult
from infrastructure.search_embedded import stored_id
from infrastructure.search_embedded_geo import distance_km, has_point, radius_box, radius_meters
from infrastructure.search_embedded_text import ATTRIBUTE_SLOTS, facet_key

MAX_TOTAL_HITS = 1_000  # Meilisearch's maxTotalHits: no page reaches past it


MAX_FACET_VALUES = 100  # maxValuesPerFacet, the first ones alphabetically


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


# (body JSON, distance in meters) per hit; bytes (the column store's) are read by orjson
Page = tuple[tuple[str | bytes, float | None], ...]


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
    """A fresh result (each hit parses its document anew, so callers never share cached
    objects)."""
    return SearchResult(
        hits=[
            SearchHit(
                stored=body,
                distance_km=distance_km(dist) if has_point(query) else None,
                listing_id=stored_id(body),
            )
            if isinstance(body, bytes)  # parsed on first use: the endpoint may never need to
            else SearchHit(json.loads(body), distance_km(dist) if has_point(query) else None)
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
