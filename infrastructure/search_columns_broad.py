"""Broad queries on the column store: those matching a large share of the documents.

Listing every match costs O(matches) per query whatever the page (at 100k documents, an
empty query gathered and partitioned 100k sort keys and 500k amenity rows). A broad query
without text rank or distance instead walks the precomputed order of its sort until the page
is full, takes its price range from the two ends of the price order, and counts its facets
on the store's bitsets (`search_columns_sets`); the answer is the same as the gather path's.
"""

from __future__ import annotations

import numpy as np

from application.search import SearchQuery
from infrastructure.search_columns import ColumnStore, IntArray, Mask, Rids
from infrastructure.search_columns_sets import facet_counts, first_passing, pack
from infrastructure.search_embedded_sql import MAX_FACET_VALUES, MAX_TOTAL_HITS, Aggregates

BROAD_SHARE = 64  # a query matching over 1/64 of the documents is broad (cheaper from there)


def page_bounds(query: SearchQuery, count: int) -> tuple[int, int]:
    """The page's [offset, end) among `count` matches (never past MAX_TOTAL_HITS)."""
    offset = max(0, query.offset)
    limit = max(0, min(query.limit, MAX_TOTAL_HITS - offset))
    return offset, min(offset + limit, count)


def walk_page(
    store: ColumnStore, query: SearchQuery, mask: Mask, count: int, order: Rids | None = None
) -> IntArray:
    """The page of a broad query without distance: the first rids of its sort order (the
    ranks `page_order` sorts by, or a one-word query's `order`) that pass the mask."""
    offset, end = page_bounds(query, count)
    if end <= offset:
        return np.zeros(0, np.int64)
    if order is None:
        walk = {"price_asc": "price_asc", "price_desc": "price_desc", "newest": "newest"}
        order = store.walks[walk.get(query.sort, "tiebreak")]
    return first_passing(order, mask, end, count / max(1, store.documents))[offset:end]


def broad_aggregates(store: ColumnStore, mask: Mask, count: int, query: SearchQuery) -> Aggregates:
    """`aggregates` for a broad match mask: the price range from the two ends of the price
    order, the facets on the store's bitsets."""
    share = count / max(1, store.documents)
    low = first_passing(store.by_price, mask, 1, share)
    price_stats = None
    if len(low):
        high = first_passing(store.by_price[::-1], mask, 1, share)
        price_stats = {"min": int(store.price[low[0]]), "max": int(store.price[high[0]])}
    facets = None
    if query.facets:
        packed = pack(mask)
        facets = {
            name: facet_counts(
                sets, labels, single, sets.counts(mask, packed), mask, MAX_FACET_VALUES
            )
            for name, sets, labels, single in (
                (
                    "category",
                    store.category_sets,
                    store.category_label.values,
                    store.category_single,
                ),
                ("amenities", store.amenity_sets, store.amenity_labels, store.amenity_single),
            )
        }
    return Aggregates(count, facets, price_stats)
