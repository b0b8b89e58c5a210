"""Answering a search from a `ColumnStore` with the SQL path's exact rules.

The SQL (`search_embedded_sql`) stays the definition; this evaluates it on columns: the
filters as one boolean mask over rids, the words rule as per-query-word key rows
(`cost * ATTRIBUTE_SLOTS + attr`, the MIN over a word's derivations, as the `m` CTE),
counting as `bincount`s over the matches, the page by `argpartition` on one int64 sort key;
a broad query (a large share of the documents) walks orders and counts on bitsets instead
(`search_columns_broad`).
Blocked days and the page's bodies move without moving `gen_static`: they are read in the
caller's snapshot, and kept with the store only for the write generation (`gen_all`) read.

Distances: numpy's haversine orders and prefilters; the radius test near its edge and every
distance shown are `haversine_m` (Python's math), as the SQL path's registered function,
so a hit's distance and membership are exactly the SQL path's. (Two documents whose
distances differ only in the last bit could order differently; their ranks tie otherwise.)
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence

import numpy as np

from application.search import SearchQuery, SearchResult
from infrastructure.search_columns import ColumnStore, Floats, IntArray, Mask
from infrastructure.search_columns_broad import (
    BROAD_SHARE,
    broad_aggregates,
    page_bounds,
    walk_page,
)
from infrastructure.search_columns_text import ranked, relevance_key, text_mask, word_rows
from infrastructure.search_embedded_geo import (
    EARTH_RADIUS_M,
    has_point,
    haversine_m,
    radius_box,
    radius_meters,
)
from infrastructure.search_embedded_sql import (
    MAX_FACET_VALUES,
    Aggregates,
    Page,
    assemble,
)
from infrastructure.search_embedded_text import Derivation, facet_key

EDGE_M = 0.01  # numpy's distance is within far less of math's; re-decided exactly
PROBE_UP_TO = 2_000  # (candidate, day) pairs probed by key; more read each day's rows


def answer(
    db: sqlite3.Connection,
    store: ColumnStore,
    query: SearchQuery,
    derivations: Sequence[Derivation] | None,
    n_words: int,
    gen_all: int,
) -> SearchResult:
    """`gen_all`: the write generation the caller's snapshot shows (see
    `search_embedded_cache`); `db`: the DB-API connection holding that snapshot."""
    mask = filter_mask(db, store, query, gen_all)
    dist: Floats | None = None
    if has_point(query):
        dist = distances(store, query, mask)
        if query.radius_km is not None:
            mask &= ~np.isnan(dist) & (dist <= radius_meters(query.radius_km))
    relevance: IntArray | None = None
    rows = None if derivations is None else word_rows(store, derivations, n_words)
    if rows is not None:
        mask &= text_mask(rows)
    by_relevance = query.sort == "relevance" or (query.sort == "distance" and dist is None)
    by_relevance = rows is not None and by_relevance  # distance without a point too
    count = int(np.count_nonzero(mask))
    broad = count * BROAD_SHARE >= store.documents
    matches: IntArray | None = None
    if broad and dist is None:
        # never lists every match: walks the sort's order (or the words' rank order)
        walk = ranked(store, rows) if by_relevance and rows is not None else None
        order = walk_page(store, query, mask, count, walk)
    else:
        matches = np.flatnonzero(mask)
        if by_relevance and rows is not None:
            relevance = relevance_key(store, rows, matches)
        order = page_order(store, query, matches, dist, relevance)
    page = bodies(db, store, order, query, gen_all)
    if broad:
        return assemble(page, broad_aggregates(store, mask, count, query), query)
    assert matches is not None
    return assemble(page, aggregates(store, matches, query), query)


def filter_mask(
    db: sqlite3.Connection, store: ColumnStore, query: SearchQuery, gen_all: int
) -> Mask:
    """`scalar_filters`, amenities, dates and booking units, as in the SQL path."""
    mask = store.present.copy()

    def equal(column: str, value: str) -> None:
        coded = getattr(store, column)
        code = coded.code(value)
        mask[:] &= coded.codes == (-2 if code is None else code)

    if query.category is not None:
        equal("category", facet_key(query.category))
    if query.currency is not None:
        equal("currency", facet_key(query.currency))
    with np.errstate(invalid="ignore"):
        if query.min_price is not None:
            mask &= store.price >= query.min_price
        if query.max_price is not None:
            mask &= store.price <= query.max_price
        if query.guests is not None:
            mask &= store.capacity >= query.guests
        if query.units is not None:
            mask &= store.units >= query.units
        if query.instant_book is not None:
            equal("booking_mode", "instant" if query.instant_book else "request")
        if query.bbox is not None:
            top, left, bottom, right = query.bbox
            mask &= (store.lat >= bottom) & (store.lat <= top)
            if left <= right:
                mask &= (store.lng >= left) & (store.lng <= right)
            else:  # across the antimeridian
                mask &= (store.lng >= left) | (store.lng <= right)
        if has_point(query) and query.radius_km is not None:
            assert query.lat is not None and query.lng is not None
            reach_km = radius_meters(query.radius_km) / 1000
            lo_lat, hi_lat, lo_lng, hi_lng = radius_box(query.lat, query.lng, reach_km)
            mask &= (store.lat >= lo_lat) & (store.lat <= hi_lat)
            if math.isfinite(lo_lng):
                mask &= (store.lng >= lo_lng) & (store.lng <= hi_lng)
    for key in {facet_key(a) for a in query.amenities}:
        rids = store.by_amenity.get(key)
        has = np.zeros(store.size, np.bool_)
        if rids is not None:
            has[rids] = True
        mask &= has
    if query.booking_units:
        codes = [store.booking_unit.code(facet_key(u)) for u in query.booking_units]
        mask &= np.isin(store.booking_unit.codes, [c for c in codes if c is not None])
    for table, key, values in (
        ("search_blocked_nights", "day", query.free_nights),
        ("search_blocked_hours", "hour", query.free_hours),
    ):
        count = int(np.count_nonzero(mask)) if values else 0
        if count and count * len(set(values)) <= PROBE_UP_TO:
            mask[probe_blocked(db, table, key, values, np.flatnonzero(mask))] = False
        elif count:
            for blocked in blocked_on(db, store, gen_all, table, key, set(values)):
                mask[blocked] = False
    return mask


def probe_blocked(
    db: sqlite3.Connection, table: str, key: str, values: Sequence[int], candidates: IntArray
) -> list[int]:
    """The few candidates blocked on any of `values`, probed through the (day, doc) key in
    the caller's snapshot (the raw cursor of the same connection and transaction)."""
    rows = db.execute(
        f"SELECT DISTINCT doc FROM {table} WHERE {key} IN (SELECT value FROM json_each(?)) "
        "AND doc IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(set(values))), json.dumps(candidates.tolist())),
    ).fetchall()
    return [r[0] for r in rows]


def blocked_on(
    db: sqlite3.Connection, store: ColumnStore, gen_all: int, table: str, key: str, values: set[int]
) -> list[IntArray]:
    """The rids blocked on each day (or hour), as of write generation `gen_all`, which the
    caller's snapshot shows: kept with the store for the dated queries of that generation;
    the days not kept yet are read whole in one statement."""
    found: dict[int, IntArray] = {}
    for value in values:
        if (kept := store.blocked_days.get((gen_all, table, value))) is not None:
            found[value] = kept
    missing = sorted(values - found.keys())
    if missing:
        rows = db.execute(  # one string per day: parsed in C, not a tuple per row
            f"SELECT {key}, group_concat(doc) FROM {table} "
            f"WHERE {key} IN (SELECT value FROM json_each(?)) GROUP BY {key}",
            (json.dumps(missing),),
        ).fetchall()
        read = {int(v): np.fromstring(str(docs), dtype=np.int64, sep=",") for v, docs in rows}
        for value in missing:
            rids = read.get(value, np.zeros(0, np.int64))
            rids = rids[rids < store.size]  # a rid newer than the store cannot be a candidate
            store.blocked_days.put((gen_all, table, value), rids)
            found[value] = rids
    return list(found.values())


def distances(store: ColumnStore, query: SearchQuery, mask: Mask) -> Floats:
    """Meters from the query's point for the masked rids (NaN elsewhere or without geo):
    numpy's haversine, redone with `haversine_m` where it decides a radius (and, in
    `page_order`, for the few that can reach the page)."""
    lat0, lng0 = float(query.lat), float(query.lng)  # type: ignore[arg-type]
    out = np.full(store.size, np.nan)
    at = np.flatnonzero(mask & ~np.isnan(store.lat) & ~np.isnan(store.lng))
    p1, p2 = math.radians(lat0), np.radians(store.lat[at])
    dl = np.radians(store.lng[at]) - math.radians(lng0)
    total = (1.0 - np.cos(p2 - p1)) / 2.0 + math.cos(p1) * np.cos(p2) * ((1.0 - np.cos(dl)) / 2.0)
    out[at] = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, total)))
    if query.radius_km is not None:
        edge = at[np.abs(out[at] - radius_meters(query.radius_km)) <= EDGE_M]
        out[edge] = _exact(lat0, lng0, store, edge)
    return out


def _exact(lat0: float, lng0: float, store: ColumnStore, rids: IntArray) -> list[float]:
    pairs = zip(store.lat[rids].tolist(), store.lng[rids].tolist(), strict=True)
    return [haversine_m(lat0, lng0, lat, lng) for lat, lng in pairs]


def page_order(
    store: ColumnStore,
    query: SearchQuery,
    matches: IntArray,
    dist: Floats | None,
    relevance: IntArray | None,
) -> IntArray:
    """The rids of the page, in order."""
    offset, end = page_bounds(query, len(matches))
    if end <= offset:
        return np.zeros(0, np.int64)
    sort = query.sort
    if sort == "distance" and dist is not None:
        d = dist[matches]
        near = np.flatnonzero(~np.isnan(d))
        if len(near) > end:  # only rids within EDGE_M of the page's last can reach it
            cut = np.partition(d[near], end - 1)[end - 1]
            near = near[d[near] <= cut + EDGE_M]
        at = near if len(near) >= end else np.arange(len(matches))
        exact = d[at]
        known = ~np.isnan(exact)
        lat0, lng0 = float(query.lat), float(query.lng)  # type: ignore[arg-type]
        exact[known] = _exact(lat0, lng0, store, matches[at[known]])
        tiebreak = store.tiebreak[matches[at]]
        order = np.lexsort((tiebreak, np.nan_to_num(exact, nan=np.inf), ~known))
        return matches[at[order[offset:end]]]
    if relevance is not None:
        key = relevance
    else:
        column = {"price_asc": store.price_asc, "price_desc": store.price_desc}
        key = column.get(sort, store.newest if sort == "newest" else store.tiebreak)[matches]
    if end < len(matches):
        top = np.argpartition(key, end - 1)[:end]
        top = top[np.argsort(key[top])]
    else:
        top = np.argsort(key)
    return matches[top[offset:end]]


def bodies(
    db: sqlite3.Connection, store: ColumnStore, rids: IntArray, query: SearchQuery, gen_all: int
) -> Page:
    """The page's bodies as of the caller's snapshot (write generation `gen_all`): those the
    store's body cache holds for that generation, the rest read in the snapshot."""
    if len(rids) == 0:
        return ()
    wanted = rids.tolist()
    found = store.bodies.get(gen_all, wanted)
    missing = [r for r in wanted if r not in found]
    if missing:
        rows = db.execute(  # same connection and transaction
            "SELECT rid, body FROM search_bodies WHERE rid IN (SELECT value FROM json_each(?))",
            (json.dumps(missing),),
        )
        read = {int(rid): str(body).encode() for rid, body in rows}
        store.bodies.put(gen_all, read)
        found.update(read)
    out: list[tuple[bytes, float | None]] = []
    for rid in wanted:
        meters = None
        lat, lng = float(store.lat[rid]), float(store.lng[rid])
        if has_point(query) and not (math.isnan(lat) or math.isnan(lng)):
            meters = haversine_m(float(query.lat), float(query.lng), lat, lng)  # type: ignore[arg-type]
        out.append((found[rid], meters))
    return tuple(out)


def aggregates(store: ColumnStore, matches: IntArray, query: SearchQuery) -> Aggregates:
    """Total, price range and (with `query.facets`) the facets over every match."""
    prices = store.price[matches]
    prices = prices[~np.isnan(prices)]
    price_stats = None if len(prices) == 0 else {"min": int(prices.min()), "max": int(prices.max())}
    facets = None
    if query.facets:
        cat = store.category.codes[matches]
        labels = store.category_label.codes[matches]
        keep = cat >= 0
        facets = {
            "category": _facet(
                store.category.values,
                store.category_label.values,
                cat[keep],
                labels[keep],
                store.category_single,
            ),
        }
        pairs = _amenity_rows(store, matches)
        facets["amenities"] = _facet(
            store.amenity_keys,
            store.amenity_labels,
            store.amenity_key[pairs],
            store.amenity_label[pairs],
            store.amenity_single,
        )
    return Aggregates(len(matches), facets, price_stats)


def _amenity_rows(store: ColumnStore, matches: IntArray) -> IntArray:
    """The (amenity, doc) rows of the matches: gathered by rid for few matches, else found
    by one pass over every row."""
    if len(matches) * 16 >= len(store.amenity_rids):
        on = np.zeros(store.size, np.bool_)
        on[matches] = True
        return np.flatnonzero(on[store.amenity_rids])
    starts = store.amenity_starts[matches]
    lengths = store.amenity_starts[matches + 1] - starts
    shift = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return shift + np.arange(int(lengths.sum()))


def _facet(
    keys: Sequence[str],
    labels: Sequence[str],
    key_codes: np.ndarray,
    label_codes: np.ndarray,
    single: np.ndarray,
) -> dict[str, int]:
    """Counts per key, shown by the key's smallest label among the matches (MIN(label), as
    the SQL path), for the first MAX_FACET_VALUES keys. `single[key]` is the key's label
    when the whole index spells it one way (the rule), else -1."""
    counts = np.bincount(key_codes, minlength=len(keys))
    out: dict[str, int] = {}
    for code in np.flatnonzero(counts)[:MAX_FACET_VALUES].tolist():
        label = int(single[code])
        if label < 0:
            label = int(label_codes[key_codes == code].min())
        out[labels[label]] = int(counts[code])
    return out
