"""The embedded search backend on the PostgreSQL view database.

`search_docs` holds filter/sort columns, the JSON body, and amenities and blocked days as
arrays with GIN indexes (`amenities @> :wanted`; a date filter is an anti-join on
`blocked_nights && :free`, which the GIN index answers). Text goes through `search_terms`
(word, doc, best attribute): an inverted index whose btree range scans give both candidates
and the inputs of ranking, which a tsvector cannot (it knows positions, not our seven
attributes). Distances are geoutils' haversine in SQL, written operation for operation like
`haversine_m`, so all backends agree to the last bit; earthdistance (available here) measures
on a 6378.168 km sphere with another formula and would disagree at radius boundaries.
Answers are cached per write generation (`search_meta`, see `search_embedded`); a search
runs REPEATABLE READ so the generation it reads and the answer it computes are one snapshot.
Sort orders have composite indexes, so a page with a cached total walks an index to LIMIT.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT, INTEGER, SMALLINT, TEXT
from sqlalchemy.exc import ProgrammingError

from application.search import SearchIndex, SearchIndexError, SearchQuery, SearchResult
from infrastructure import search_embedded_facets as facets
from infrastructure.search_embedded import accepted, check_documents, document_json, newest_per_id
from infrastructure.search_embedded_cache import (
    BUMP_GENERATION,
    CachedSearch,
    match_key,
    record_upserts,
)
from infrastructure.search_embedded_geo import EARTH_RADIUS_M, geo_of, has_point
from infrastructure.search_embedded_sql import scalar_filters, search_sql
from infrastructure.search_embedded_text import (
    Vocabulary,
    amenity_keys,
    document_terms,
    facet_key,
    key_or_none,
    query_terms,
)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS search_docs (
        rid BIGSERIAL PRIMARY KEY, id TEXT COLLATE "C" NOT NULL UNIQUE,
        version BIGINT NOT NULL, category TEXT, category_label TEXT, price_amount BIGINT,
        currency TEXT, capacity INTEGER, units INTEGER, booking_mode TEXT, booking_unit TEXT,
        rating DOUBLE PRECISION NOT NULL, created_at BIGINT NOT NULL,
        lat DOUBLE PRECISION, lng DOUBLE PRECISION,
        lat_rad DOUBLE PRECISION, lng_rad DOUBLE PRECISION, amenities TEXT[] NOT NULL,
        amenity_labels TEXT[] NOT NULL,
        blocked_nights INTEGER[] NOT NULL, blocked_hours INTEGER[] NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS search_bodies (rid BIGINT PRIMARY KEY, body TEXT NOT NULL)",
    "ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS fp TEXT",  # static fingerprint
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
        gen_all BIGINT NOT NULL, gen_static BIGINT NOT NULL)""",
    "INSERT INTO search_meta VALUES (1, substr(md5(random()::text || clock_timestamp()::text), "
    "1, 16), 0, 0) ON CONFLICT DO NOTHING",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_amenities ON search_docs USING gin (amenities)",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_blocked_nights "
    "ON search_docs USING gin (blocked_nights)",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_blocked_hours "
    "ON search_docs USING gin (blocked_hours)",
    """CREATE TABLE IF NOT EXISTS search_terms (
        word TEXT COLLATE "C" NOT NULL, doc BIGINT NOT NULL, attr SMALLINT NOT NULL,
        PRIMARY KEY (word, doc) INCLUDE (attr))""",
    "CREATE INDEX IF NOT EXISTS ix_search_terms_doc ON search_terms (doc)",
    "CREATE TABLE IF NOT EXISTS search_vocab ("
    'id BIGSERIAL PRIMARY KEY, word TEXT COLLATE "C" NOT NULL UNIQUE)',
    'CREATE TABLE IF NOT EXISTS search_tombstones (id TEXT COLLATE "C" PRIMARY KEY, '
    "version BIGINT NOT NULL)",
)
_LOCK = zlib.crc32(b"rentbook.search_docs")  # writers queue on it, like SQLite's write lock
# haversine_m, operation for operation, in meters
_DISTANCE = f"""(
    SELECT 2.0::float8 * {EARTH_RADIUS_M}::float8 * asin(sqrt(LEAST(1.0::float8,
        (1.0::float8 - cos(p2 - p1)) / 2.0::float8
        + cos(p1) * cos(p2) * ((1.0::float8 - cos(l2 - l1)) / 2.0::float8))))
    FROM (SELECT CAST(:p1 AS float8) AS p1, d.lat_rad AS p2,
                 CAST(:l1 AS float8) AS l1, d.lng_rad AS l2) r
)"""
_DOC_COLUMNS = (
    "rid, id, version, category, category_label, price_amount, currency, capacity, units, "
    "booking_mode, booking_unit, rating, created_at, lat, lng, lat_rad, lng_rad, amenities, "
    "amenity_labels, blocked_nights, blocked_hours, fp"
)


class PostgresSearchIndex(SearchIndex):
    def __init__(self, engine: Engine, *, maintained_facets: bool = True) -> None:
        self._engine = engine
        self._vocabulary = Vocabulary()
        # maintained_facets=False counts over the matches on every query (tests compare)
        self._cache = CachedSearch(maintained=maintained_facets)

    def ensure_settings(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
            for statement in (*_SCHEMA, *facets.SCHEMA):
                conn.exec_driver_sql(statement)
            facets.backfill(conn)
            conn.execute(text(BUMP_GENERATION), {"static": 1})

    def upsert(self, documents: Sequence[dict[str, Any]]) -> None:
        check_documents(documents)
        batch = newest_per_id(documents)
        if not batch:
            return
        with self._engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
            ids = list(batch)
            stored = {
                row.id: (row.rid, row.version, row.fp)
                for row in conn.execute(
                    text("SELECT id, rid, version, fp FROM search_docs WHERE id = ANY(:ids)"),
                    {"ids": ids},
                )
            }
            deleted: dict[str, int] = dict(
                conn.execute(
                    text("SELECT id, version FROM search_tombstones WHERE id = ANY(:ids)"),
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
            self._remove_rows(conn, [stored[d["id"]][0] for d in fresh if d["id"] in stored])
            new = [d for d in fresh if d["id"] not in stored]
            numbers = conn.execute(
                text("SELECT nextval('search_docs_rid_seq') FROM generate_series(1, :n)"),
                {"n": len(new)},
            ).scalars()
            rids = {d["id"]: stored[d["id"]][0] for d in fresh if d["id"] in stored}
            rids.update(zip((d["id"] for d in new), numbers, strict=True))
            self._insert_rows(conn, [(rids[d["id"]], d) for d in fresh], fingerprints)

    def _remove_rows(self, conn: Connection, rids: list[int]) -> None:
        if rids:
            conn.execute(text("DELETE FROM search_terms WHERE doc = ANY(:r)"), {"r": rids})
            conn.execute(text("DELETE FROM search_bodies WHERE rid = ANY(:r)"), {"r": rids})
            conn.execute(text("DELETE FROM search_docs WHERE rid = ANY(:r)"), {"r": rids})

    def _insert_rows(
        self,
        conn: Connection,
        rows: list[tuple[int, Mapping[str, Any]]],
        fingerprints: Mapping[str, str],
    ) -> None:
        docs, t_word, t_doc, t_attr, vocab = [], [], [], [], set()
        for rid, d in rows:
            lat, lng = geo_of(d)
            amenities = amenity_keys(d)
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
                    # radians in Python: PostgreSQL's radians() raises on subnormal degrees
                    "lat_rad": None if lat is None else math.radians(lat),
                    "lng_rad": None if lng is None else math.radians(lng),
                    "amenities": list(amenities),
                    "amenity_labels": list(amenities.values()),
                    "blocked_nights": sorted(set(d.get("blocked_nights", ()))),
                    "blocked_hours": sorted(set(d.get("blocked_hours", ()))),
                    "fp": fingerprints[d["id"]],
                }
            )
            for word, attr in document_terms(d).items():
                t_word.append(word)
                t_doc.append(rid)
                t_attr.append(attr)
                vocab.add(word)
        conn.execute(
            text(
                f"INSERT INTO search_docs ({_DOC_COLUMNS}) "
                f"VALUES ({', '.join(':' + c for c in _DOC_COLUMNS.split(', '))})"
            ),
            docs,
        )
        conn.execute(
            text("INSERT INTO search_bodies (rid, body) VALUES (:rid, :body)"),
            [{"rid": rid, "body": document_json(d)} for rid, d in rows],
        )
        conn.execute(
            text(
                "INSERT INTO search_terms (word, doc, attr) SELECT * FROM unnest(:w, :d, :a)"
            ).bindparams(
                bindparam("w", type_=ARRAY(TEXT)),
                bindparam("d", type_=ARRAY(BIGINT)),
                bindparam("a", type_=ARRAY(SMALLINT)),
            ),
            {"w": t_word, "d": t_doc, "a": t_attr},
        )
        conn.execute(
            text(
                "INSERT INTO search_vocab (word) SELECT w FROM unnest(:w) AS w ORDER BY w "
                "ON CONFLICT (word) DO NOTHING"
            ).bindparams(bindparam("w", type_=ARRAY(TEXT))),
            {"w": sorted(vocab)},
        )

    def delete(self, ids_and_versions: Sequence[tuple[str, int]]) -> None:
        if not ids_and_versions:
            return
        with self._engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
            for id_, version in ids_and_versions:
                rid = conn.execute(
                    text("SELECT rid FROM search_docs WHERE id = :id AND version <= :v"),
                    {"id": id_, "v": version},
                ).scalar()
                if rid is not None:
                    facets.apply(conn, facets.stored_documents(conn, [rid]), ())
                    self._remove_rows(conn, [rid])
                    conn.execute(text(BUMP_GENERATION), {"static": 1})
                conn.execute(
                    text(
                        "INSERT INTO search_tombstones (id, version) VALUES (:id, :v) "
                        "ON CONFLICT (id) DO UPDATE "
                        "SET version = GREATEST(search_tombstones.version, excluded.version)"
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
        with self._engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
            # DELETE, not TRUNCATE: vocabulary ids keep growing, so other processes' cached
            # vocabularies still refresh by id (their stale words match nothing).
            for table in (
                "search_terms",
                "search_bodies",
                "search_docs",
                "search_vocab",
                "search_tombstones",
            ):
                conn.exec_driver_sql(f"DELETE FROM {table}")
            facets.clear(conn)
            conn.execute(text(BUMP_GENERATION), {"static": 1})
        self._vocabulary.reset()
        self._cache.clear()

    def search(self, query: SearchQuery) -> SearchResult:
        try:
            return self._search(query)
        except ProgrammingError as exc:  # before the syncer created the index: retry later
            if isinstance(exc.orig, psycopg.errors.UndefinedTable):
                raise SearchIndexError("search index not set up yet") from exc
            raise

    def _search(self, query: SearchQuery) -> SearchResult:
        qwords, prefix = query_terms(query.q)
        matched = match_key(query, qwords, prefix)
        with self._engine.connect() as base:
            # one snapshot: the generation and the answer agree
            conn = base.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():

                def run(with_aggregates: bool) -> Sequence[Any]:
                    statement, params = self._statement(conn, query, aggregates=with_aggregates)
                    return conn.execute(statement, params).all()

                scope = facets.scope_of(query, qwords)
                return self._cache.answer(conn, query, matched, run, scope)

    def _statement(
        self, conn: Connection, query: SearchQuery, *, aggregates: bool = True
    ) -> tuple[Any, dict[str, Any]]:
        params: dict[str, Any] = {}
        arrays: dict[str, Any] = {}
        where = scalar_filters(query, params)
        if query.amenities:
            arrays["amenities"] = (sorted({facet_key(a) for a in query.amenities}), TEXT)
            where.append("d.amenities @> :amenities")
        for name, values in (("nights", query.free_nights), ("hours", query.free_hours)):
            if values:
                arrays[f"free_{name}"] = (sorted(set(values)), INTEGER)
                where.append(
                    f"d.rid NOT IN (SELECT rid FROM search_docs "
                    f"WHERE blocked_{name} && :free_{name})"
                )
        if query.booking_units:
            arrays["booking_units"] = (sorted({facet_key(u) for u in query.booking_units}), TEXT)
            where.append("d.booking_unit = ANY(:booking_units)")
        dist = "CAST(NULL AS float8)"
        if has_point(query):
            assert query.lat is not None and query.lng is not None
            params.update(p1=math.radians(query.lat), l1=math.radians(query.lng))
            dist = _DISTANCE
        qwords, prefix = query_terms(query.q)
        qt = None
        if qwords:
            self._refresh_vocabulary(conn)
            derivations = self._vocabulary.expand(qwords, prefix=prefix)
            arrays.update(
                qt_qi=([d.qi for d in derivations], INTEGER),
                qt_word=([d.word for d in derivations], TEXT),
                qt_cost=([d.cost for d in derivations], INTEGER),
                qt_ex=([d.exact for d in derivations], INTEGER),
            )
            qt = (
                "SELECT * FROM unnest(:qt_qi, :qt_word, :qt_cost, :qt_ex) AS qt(qi, word, cost, ex)"
            )
        sql = search_sql(
            query,
            params,
            where=where,
            dist=dist,
            n_words=len(qwords),
            qt=qt,
            postings="search_terms",
            amenities_facet="SELECT a.k, MIN(a.label) AS label, COUNT(*) AS n FROM matches, "
            "unnest(matches.amenities, matches.amenity_labels) AS a(k, label) GROUP BY a.k",
            extra_columns=", d.amenities, d.amenity_labels",
            aggregates=aggregates,
        )
        params.update({k: v for k, (v, _) in arrays.items()})
        statement = text(sql).bindparams(
            *(bindparam(k, type_=ARRAY(t)) for k, (_, t) in arrays.items())
        )
        return statement, params

    def _refresh_vocabulary(self, conn: Connection) -> None:
        rows = conn.execute(
            text("SELECT id, word FROM search_vocab WHERE id > :last ORDER BY id"),
            {"last": self._vocabulary.last_id},
        ).all()
        self._vocabulary.add((int(i), str(w)) for i, w in rows)
