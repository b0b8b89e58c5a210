"""Facet counts the embedded search backends maintain per index generation.

A search with facets used to count categories, amenities, the total and the price range over
every match, per query: at 10k documents the empty query spent ~70% of its time there. Now
every write transaction (the same one that bumps the generation in `search_meta`) applies
its documents' contributions to two small tables, so a search reads them in its own snapshot
with a few index lookups:

- `search_facet_counts (scope, facet, k, label, n)`: per scope, how many documents have
  category / amenity key `k` spelled `label` (the facet shows MIN(label) per key, as the
  counting SQL does), and the scope's total (facet `*`);
- `search_facet_prices (scope, price, n)`: a multiset of base prices, so MIN/MAX stay exact
  when documents leave (rows are deleted when they reach zero).

Scopes are the whole index (`""`) and each category (`category:<key>`). A replacement whose
static fingerprint is unchanged (only version or blocked days moved) contributes nothing.

The counts apply when a query's match set is a whole scope: no words and no filter but
`category` (sort, page and a point without radius do not filter). Any other filter — words,
price range, currency, guests, units, amenities, instant_book, bbox, radius, dates (free
nights/hours, booking units) — makes them inapplicable and the backend counts over the
matches in SQL as before (`scope_of` returns None; `why_counted` names the filters).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text

from application.search import SearchQuery
from infrastructure.search_embedded_geo import has_point
from infrastructure.search_embedded_sql import MAX_FACET_VALUES, Aggregates
from infrastructure.search_embedded_text import amenity_keys, facet_key

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS search_facet_counts (
        scope TEXT NOT NULL, facet TEXT NOT NULL, k TEXT NOT NULL, label TEXT NOT NULL,
        n BIGINT NOT NULL, PRIMARY KEY (scope, facet, k, label))""",
    """CREATE TABLE IF NOT EXISTS search_facet_prices (
        scope TEXT NOT NULL, price BIGINT NOT NULL, n BIGINT NOT NULL,
        PRIMARY KEY (scope, price))""",
)
TABLES = ("search_facet_counts", "search_facet_prices")
TOTAL = "*"

CountKey = tuple[str, str, str, str]  # scope, facet, k, label
PriceKey = tuple[str, int]  # scope, price


def scopes(document: Mapping[str, Any]) -> tuple[str, ...]:
    category = document.get("category")
    return ("",) if category is None else ("", f"category:{facet_key(category)}")


def contributions(document: Mapping[str, Any]) -> tuple[list[CountKey], list[PriceKey]]:
    counts: list[CountKey] = []
    prices: list[PriceKey] = []
    category = document.get("category")
    amenities = amenity_keys(document)
    price = document.get("price_amount")
    for scope in scopes(document):
        counts.append((scope, TOTAL, "", ""))
        if category is not None:
            counts.append((scope, "category", facet_key(category), str(category)))
        counts.extend((scope, "amenities", k, label) for k, label in amenities.items())
        if price is not None:
            prices.append((scope, int(price)))
    return counts, prices


def deltas(
    removed: Iterable[Mapping[str, Any]], added: Iterable[Mapping[str, Any]]
) -> tuple[Counter[CountKey], Counter[PriceKey]]:
    counts: Counter[CountKey] = Counter()
    prices: Counter[PriceKey] = Counter()
    for sign, documents in ((-1, removed), (1, added)):
        for document in documents:
            doc_counts, doc_prices = contributions(document)
            for key in doc_counts:
                counts[key] += sign
            for price_key in doc_prices:
                prices[price_key] += sign
    return counts, prices


def apply(
    conn: Connection, removed: Iterable[Mapping[str, Any]], added: Iterable[Mapping[str, Any]]
) -> None:
    """Inside the write transaction: removed documents' contributions out, added ones in."""
    counts, prices = deltas(removed, added)
    count_rows: list[dict[str, Any]] = [
        {"s": s, "f": f, "k": k, "l": label, "d": d} for (s, f, k, label), d in counts.items() if d
    ]
    price_rows: list[dict[str, Any]] = [
        {"s": s, "p": p, "d": d} for (s, p), d in prices.items() if d
    ]
    if count_rows:
        conn.execute(
            text(
                "INSERT INTO search_facet_counts (scope, facet, k, label, n) "
                "VALUES (:s, :f, :k, :l, :d) ON CONFLICT (scope, facet, k, label) "
                "DO UPDATE SET n = search_facet_counts.n + excluded.n"
            ),
            count_rows,
        )
        gone = [r for r in count_rows if r["d"] < 0]
        if gone:
            conn.execute(
                text(
                    "DELETE FROM search_facet_counts WHERE scope = :s AND facet = :f "
                    "AND k = :k AND label = :l AND n <= 0"
                ),
                gone,
            )
    if price_rows:
        conn.execute(
            text(
                "INSERT INTO search_facet_prices (scope, price, n) VALUES (:s, :p, :d) "
                "ON CONFLICT (scope, price) DO UPDATE SET n = search_facet_prices.n + excluded.n"
            ),
            price_rows,
        )
        gone = [r for r in price_rows if r["d"] < 0]
        if gone:
            conn.execute(
                text("DELETE FROM search_facet_prices WHERE scope = :s AND price = :p AND n <= 0"),
                gone,
            )


def stored_documents(conn: Connection, rids: Sequence[int]) -> list[dict[str, Any]]:
    """The documents held under `rids`, read before they are replaced or removed."""
    if not rids:
        return []
    rows = conn.execute(
        text("SELECT body FROM search_bodies WHERE rid IN (SELECT value FROM json_each(:r))")
        if conn.dialect.name == "sqlite"
        else text("SELECT body FROM search_bodies WHERE rid = ANY(CAST(:r AS BIGINT[]))"),
        {"r": json.dumps(list(rids)) if conn.dialect.name == "sqlite" else list(rids)},
    )
    return [json.loads(body) for (body,) in rows]


def backfill(conn: Connection) -> None:
    """Once, for an index built before the counts existed: count every stored document."""
    if conn.execute(text("SELECT 1 FROM search_facet_counts LIMIT 1")).first() is not None:
        return
    if conn.execute(text("SELECT 1 FROM search_docs LIMIT 1")).first() is None:
        return
    rows = conn.execute(text("SELECT body FROM search_bodies"))
    apply(conn, (), (json.loads(body) for (body,) in rows))


def clear(conn: Connection) -> None:
    for table in TABLES:
        conn.exec_driver_sql(f"DELETE FROM {table}")


def why_counted(query: SearchQuery, qwords: Sequence[str]) -> tuple[str, ...]:
    """The query's filters that make the maintained counts inapplicable (empty: they apply)."""
    found = {
        "q": bool(qwords),
        "min_price": query.min_price is not None,
        "max_price": query.max_price is not None,
        "currency": query.currency is not None,
        "guests": query.guests is not None,
        "units": query.units is not None,
        "amenities": bool(query.amenities),
        "instant_book": query.instant_book is not None,
        "bbox": query.bbox is not None,
        "radius": has_point(query) and query.radius_km is not None,
        "dates": bool(query.free_nights or query.free_hours),
        "booking_units": bool(query.booking_units),
    }
    return tuple(name for name, present in found.items() if present)


def scope_of(query: SearchQuery, qwords: Sequence[str]) -> str | None:
    """The maintained scope whose counts are exactly this query's, or None."""
    if why_counted(query, qwords):
        return None
    return "" if query.category is None else f"category:{facet_key(query.category)}"


def read(conn: Connection, scope: str) -> Aggregates:
    """Total, facets and price range of `scope`, in the caller's snapshot."""
    total = 0
    by_facet: dict[str, list[tuple[str, str, int]]] = {"category": [], "amenities": []}
    for facet, k, label, n in conn.execute(
        text(
            "SELECT facet, k, MIN(label), SUM(n) FROM search_facet_counts WHERE scope = :s "
            "GROUP BY facet, k"
        ),
        {"s": scope},
    ):
        if facet == TOTAL:
            total = int(n)
        else:
            by_facet[facet].append((k, label, int(n)))
    lo, hi = conn.execute(
        text(
            "SELECT (SELECT MIN(price) FROM search_facet_prices WHERE scope = :s), "
            "(SELECT MAX(price) FROM search_facet_prices WHERE scope = :s)"
        ),
        {"s": scope},
    ).one()
    facets = {
        name: {label: n for _, label, n in sorted(rows)[:MAX_FACET_VALUES]}
        for name, rows in by_facet.items()
    }
    price_stats = None if lo is None else {"min": int(lo), "max": int(hi)}
    return Aggregates(total, facets, price_stats)
