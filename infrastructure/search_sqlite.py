"""The embedded search backend on the SQLite view database.

Documents live in `search_docs` (narrow filter and sort rows; JSON bodies apart, read only
for the page); their words in `search_terms` (word, doc, best attribute), an inverted index
that gives ranking its inputs in one index lookup per derived word. (An FTS5 table's
`fts5vocab` instance view yields the same postings, but one row per occurrence with the column
as text, so common words cost several times more; FTS5 is not used.) Amenities and blocked
days live in side tables keyed (value, doc), so each filter is one semi-/anti-join.
Distances come from a Python function registered on the connection, the same
`haversine_m` the other backends use, after a lat/lng box prefilter.
Answers are cached per write generation (`search_meta`, see `search_embedded`); sort orders
have composite indexes so a page with a cached total walks an index and stops at LIMIT; read
connections read through the OS page cache (no mmap) and keep temp b-trees in memory.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, text

from application.search import SearchIndex, SearchQuery, SearchResult
from infrastructure import search_embedded_facets as facets
from infrastructure import search_sqlite_read as read
from infrastructure.search_columns import ColumnHolder, Mode
from infrastructure.search_embedded import accepted, check_documents, document_json, newest_per_id
from infrastructure.search_embedded_cache import (
    BUMP_GENERATION,
    CachedSearch,
    match_key,
    read_generation_raw,
    record_upserts,
)
from infrastructure.search_embedded_geo import geo_of, has_point
from infrastructure.search_embedded_sql import scalar_filters, search_sql
from infrastructure.search_embedded_text import (
    Vocabulary,
    amenity_keys,
    document_terms,
    facet_key,
    key_or_none,
    query_terms,
)
from projections.base import write_transaction

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS search_docs (
        rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL,
        category TEXT, category_label TEXT, price_amount INTEGER, currency TEXT,
        capacity INTEGER, units INTEGER, booking_mode TEXT, booking_unit TEXT,
        rating REAL NOT NULL, created_at INTEGER NOT NULL, lat REAL, lng REAL)""",
    "CREATE TABLE IF NOT EXISTS search_bodies (rid INTEGER PRIMARY KEY, body TEXT NOT NULL)",
    "DROP INDEX IF EXISTS ix_search_docs_lat",
    "DROP INDEX IF EXISTS ix_search_docs_price",
    "DROP INDEX IF EXISTS ix_search_docs_category",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_geo ON search_docs (lat, lng)",
    # sort orders (with the rating, created_at, id tiebreak) and their common filters
    "CREATE INDEX IF NOT EXISTS ix_search_docs_rank "
    "ON search_docs (rating DESC, created_at DESC, id)",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_newest "
    "ON search_docs (created_at DESC, rating DESC, id)",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_price_rank "
    "ON search_docs (price_amount, rating DESC, created_at DESC, id)",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_category_rank "
    "ON search_docs (category, rating DESC, created_at DESC, id)",
    """CREATE TABLE IF NOT EXISTS search_meta (
        one INTEGER PRIMARY KEY CHECK (one = 1), epoch TEXT NOT NULL,
        gen_all INTEGER NOT NULL, gen_static INTEGER NOT NULL)""",
    "INSERT OR IGNORE INTO search_meta VALUES (1, lower(hex(randomblob(8))), 0, 0)",
    """CREATE TABLE IF NOT EXISTS search_tombstones (
        id TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS search_vocab ("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, word TEXT NOT NULL UNIQUE)",
    """CREATE TABLE IF NOT EXISTS search_terms (
        word TEXT NOT NULL, doc INTEGER NOT NULL, attr INTEGER NOT NULL,
        PRIMARY KEY (word, doc)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS ix_search_terms_doc ON search_terms (doc)",
    *(
        f"""CREATE TABLE IF NOT EXISTS search_{name} (
            {key} {kind} NOT NULL, doc INTEGER NOT NULL,{extra} PRIMARY KEY ({key}, doc))
            WITHOUT ROWID"""
        for name, key, kind, extra in (
            ("amenities", "amenity", "TEXT", " label TEXT NOT NULL,"),
            ("blocked_nights", "day", "INTEGER", ""),
            ("blocked_hours", "hour", "INTEGER", ""),
        )
    ),
    # (doc, amenity, label) covers the amenities facet walked from the matches
    "DROP INDEX IF EXISTS ix_search_amenities_doc",
    "CREATE INDEX IF NOT EXISTS ix_search_amenities_doc_label "
    "ON search_amenities (doc, amenity, label)",
    "CREATE INDEX IF NOT EXISTS ix_search_blocked_nights_doc ON search_blocked_nights (doc)",
    "CREATE INDEX IF NOT EXISTS ix_search_blocked_hours_doc ON search_blocked_hours (doc)",
)
_SIDE = (
    "search_terms",
    "search_amenities",
    "search_blocked_nights",
    "search_blocked_hours",
)


class SqliteSearchIndex(SearchIndex):
    def __init__(
        self, engine: Engine, *, maintained_facets: bool = True, columns: Mode = "sync"
    ) -> None:
        self._engine = engine
        self.columns = ColumnHolder(engine, columns)  # see search_columns
        self._vocabulary = Vocabulary()
        # maintained_facets=False counts over the matches on every query (tests compare)
        self._cache = CachedSearch(maintained=maintained_facets)

    def ensure_settings(self) -> None:
        with write_transaction(self._engine) as conn:
            for statement in _SCHEMA:
                conn.exec_driver_sql(statement)
            columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(search_docs)")}
            if "fp" not in columns:  # the static fingerprint (see search_embedded)
                conn.exec_driver_sql("ALTER TABLE search_docs ADD COLUMN fp TEXT")
            for statement in facets.SCHEMA:
                conn.exec_driver_sql(statement)
            facets.backfill(conn)
            conn.execute(text(BUMP_GENERATION), {"static": 1})

    def upsert(self, documents: Sequence[dict[str, Any]]) -> None:
        check_documents(documents)
        batch = newest_per_id(documents)
        if not batch:
            return
        with write_transaction(self._engine) as conn:
            ids = json.dumps(list(batch))
            stored = {
                row.id: (row.rid, row.version, row.fp)
                for row in conn.execute(
                    text(
                        "SELECT id, rid, version, fp FROM search_docs "
                        "WHERE id IN (SELECT value FROM json_each(:ids))"
                    ),
                    {"ids": ids},
                )
            }
            deleted: dict[str, int] = dict(
                conn.execute(
                    text(
                        "SELECT id, version FROM search_tombstones "
                        "WHERE id IN (SELECT value FROM json_each(:ids))"
                    ),
                    {"ids": ids},
                ).all()
            )
            fresh = [
                doc
                for id_, doc in batch.items()
                if accepted(doc, stored.get(id_, (None, None, None))[1], deleted.get(id_))
            ]
            if not fresh:
                return
            fingerprints = record_upserts(conn, fresh, stored)
            top = conn.execute(text("SELECT COALESCE(MAX(rid), 0) FROM search_docs")).scalar()
            self._remove_rows(conn, [stored[d["id"]][0] for d in fresh if d["id"] in stored])
            rids: dict[str, int] = {}
            for doc in fresh:  # a replaced document keeps its rid, a new one gets the next
                if doc["id"] in stored:
                    rids[doc["id"]] = stored[doc["id"]][0]
                else:
                    top = int(top or 0) + 1
                    rids[doc["id"]] = top
            self._insert_rows(conn, [(rids[d["id"]], d) for d in fresh], fingerprints)

    def _remove_rows(self, conn: Connection, rids: list[int]) -> None:
        if not rids:
            return
        params = [{"rid": r} for r in rids]
        conn.execute(text("DELETE FROM search_bodies WHERE rid = :rid"), params)
        for table in _SIDE:
            conn.execute(text(f"DELETE FROM {table} WHERE doc = :rid"), params)
        conn.execute(text("DELETE FROM search_docs WHERE rid = :rid"), params)

    def _insert_rows(
        self,
        conn: Connection,
        rows: list[tuple[int, Mapping[str, Any]]],
        fingerprints: Mapping[str, str],
    ) -> None:
        docs: list[dict[str, Any]] = []
        side: dict[str, list[dict[str, Any]]] = {t: [] for t in _SIDE}
        vocab: set[str] = set()
        for rid, d in rows:
            lat, lng = geo_of(d)
            docs.append(
                {
                    "rid": rid,
                    "id": d["id"],
                    "version": int(d["version"]),
                    "category": key_or_none(d.get("category")),
                    "category_label": None if d.get("category") is None else str(d["category"]),
                    "price_amount": d.get("price_amount"),
                    "currency": key_or_none(d.get("currency")),
                    "capacity": d.get("capacity"),
                    "units": d.get("units"),
                    "booking_mode": key_or_none(d.get("booking_mode")),
                    "booking_unit": key_or_none(d.get("booking_unit")),
                    "rating": float(d.get("rating") or 0),
                    "created_at": int(d.get("created_at") or 0),
                    "lat": lat,
                    "lng": lng,
                    "fp": fingerprints[d["id"]],
                }
            )
            terms = document_terms(d)
            vocab.update(terms)
            side["search_terms"] += [{"k": w, "rid": rid, "a": a} for w, a in terms.items()]
            side["search_amenities"] += [
                {"k": k, "rid": rid, "a": label} for k, label in amenity_keys(d).items()
            ]
            for name in ("blocked_nights", "blocked_hours"):
                side[f"search_{name}"] += [{"k": n, "rid": rid} for n in set(d.get(name, ()))]
        columns = list(docs[0])
        conn.execute(
            text(
                f"INSERT INTO search_docs ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + k for k in columns)})"
            ),
            docs,
        )
        conn.execute(
            text("INSERT INTO search_bodies (rid, body) VALUES (:rid, :body)"),
            [{"rid": rid, "body": document_json(d)} for rid, d in rows],
        )
        for table, values in side.items():
            if values:
                extra = ", :a" if table in ("search_terms", "search_amenities") else ""
                conn.execute(text(f"INSERT INTO {table} VALUES (:k, :rid{extra})"), values)
        if vocab:
            conn.execute(
                text("INSERT OR IGNORE INTO search_vocab (word) VALUES (:w)"),
                [{"w": w} for w in sorted(vocab)],
            )

    def delete(self, ids_and_versions: Sequence[tuple[str, int]]) -> None:
        if not ids_and_versions:
            return
        with write_transaction(self._engine) as conn:
            for id_, version in ids_and_versions:
                row = conn.execute(
                    text("SELECT rid FROM search_docs WHERE id = :id AND version <= :v"),
                    {"id": id_, "v": version},
                ).first()
                if row is not None:
                    facets.apply(conn, facets.stored_documents(conn, [row.rid]), ())
                    self._remove_rows(conn, [row.rid])
                    conn.execute(text(BUMP_GENERATION), {"static": 1})
                conn.execute(
                    text(
                        "INSERT INTO search_tombstones (id, version) VALUES (:id, :v) "
                        "ON CONFLICT (id) DO UPDATE SET version = MAX(version, excluded.version)"
                    ),
                    {"id": id_, "v": version},
                )

    def get(self, listing_id: str) -> dict[str, Any] | None:
        with self._engine.connect() as conn:
            body = conn.execute(
                text(
                    "SELECT b.body FROM search_docs d JOIN search_bodies b ON b.rid = d.rid "
                    "WHERE d.id = :id"
                ),
                {"id": listing_id},
            ).scalar()
        return None if body is None else dict(json.loads(body))

    def clear(self) -> None:
        with write_transaction(self._engine) as conn:
            for table in (
                "search_docs",
                "search_bodies",
                "search_tombstones",
                "search_vocab",
                *_SIDE,
            ):
                conn.exec_driver_sql(f"DELETE FROM {table}")
            facets.clear(conn)
            conn.execute(text(BUMP_GENERATION), {"static": 1})
        self._vocabulary.reset()
        self._cache.clear()
        self.columns.clear()

    def search(self, query: SearchQuery) -> SearchResult:
        terms = qwords, prefix = query_terms(query.q)
        store = self.columns.store
        if store is not None:
            found = read.from_store(self._engine, store, self._vocabulary, query, terms)
            if found is not None:
                return found
        matched = match_key(query, qwords, prefix)
        with self._engine.connect() as conn:
            db = conn.connection.driver_connection
            assert isinstance(db, sqlite3.Connection)
            read.prepare(db, conn.info)
            with conn.begin():  # one snapshot: the generation and the answer agree
                generation = read_generation_raw(db)
                store = self.columns.get(conn, generation)
                if store is not None:
                    return read.store_answer(db, store, self._vocabulary, query, terms, generation)

                def run(with_aggregates: bool) -> Sequence[Any]:
                    sql, params = self._statement(conn, query, aggregates=with_aggregates)
                    return conn.execute(text(sql), params).all()

                scope = facets.scope_of(query, qwords)
                return self._cache.answer(conn, query, matched, run, scope)

    def _statement(
        self, conn: Connection, query: SearchQuery, *, aggregates: bool = True
    ) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"limit": max(0, query.limit), "offset": max(0, query.offset)}
        where = scalar_filters(query, params)
        if query.amenities:
            wanted = sorted({facet_key(a) for a in query.amenities})
            params.update(amenities=json.dumps(wanted), n_amenities=len(wanted))
            where.append(
                "d.rid IN (SELECT doc FROM search_amenities WHERE amenity IN "
                "(SELECT value FROM json_each(:amenities)) GROUP BY doc "
                "HAVING COUNT(*) = :n_amenities)"
            )
        for name, key, values in (
            ("nights", "day", query.free_nights),
            ("hours", "hour", query.free_hours),
        ):
            if values:
                params[f"free_{name}"] = json.dumps(sorted(set(values)))
                where.append(
                    f"d.rid NOT IN (SELECT doc FROM search_blocked_{name} WHERE {key} IN "
                    f"(SELECT value FROM json_each(:free_{name})))"
                )
        if query.booking_units:
            params["booking_units"] = json.dumps(
                sorted({facet_key(u) for u in query.booking_units})
            )
            where.append("d.booking_unit IN (SELECT value FROM json_each(:booking_units))")
        dist = "NULL"
        if has_point(query):
            params.update(lat=query.lat, lng=query.lng)
            dist = "rb_haversine(:lat, :lng, d.lat, d.lng)"
        qwords, prefix = query_terms(query.q)
        qt = None
        if qwords:
            read.refresh_vocabulary(conn.connection.driver_connection, self._vocabulary)  # type: ignore[arg-type]
            params["derivations"] = json.dumps(
                [
                    [d.qi, d.word, d.cost, d.exact]
                    for d in self._vocabulary.expand(qwords, prefix=prefix)
                ]
            )
            qt = (
                "SELECT json_extract(value, '$[0]') AS qi, json_extract(value, '$[1]') AS word, "
                "json_extract(value, '$[2]') AS cost, json_extract(value, '$[3]') AS ex "
                "FROM json_each(:derivations)"
            )
        sql = search_sql(
            query,
            params,
            where=where,
            dist=dist,
            n_words=len(qwords),
            qt=qt,
            postings="search_terms",
            # CROSS JOIN keeps this order: SQLite otherwise scans every amenity row and
            # probes the matches, which costs ~10x for the small match sets filters give.
            amenities_facet="SELECT a.amenity AS k, MIN(a.label) AS label, COUNT(*) AS n "
            "FROM matches CROSS JOIN search_amenities a ON a.doc = matches.rid "
            "GROUP BY a.amenity",
            aggregates=aggregates,
        )
        return sql, params
