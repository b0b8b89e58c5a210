"""A per-generation, in-memory column store of the SQLite search index (issue #9).

Counting and ranking in SQL cost every cold query a pass over all its matches (a common word
or a one-letter prefix matches most of the index: 30-300 ms at 10k). The store holds what
ranking, filtering and counting read, as numpy columns indexed by the document's `rid`:
filter values as codes, nullable numbers as floats (NaN never compares, as SQL NULL), the
sort orders as precomputed ranks, each word's postings (rids and attributes) and each
amenity's rids. A query is then a few vectorised mask operations, `bincount`s for the
facets and an `argpartition` for the page (`search_columns_query`).

Consistency: a store is built in one snapshot and is valid exactly for the `(epoch,
gen_static)` it read there (see `search_embedded_cache`): everything it holds is static
(a replacement that keeps the static fingerprint keeps its rid). What changes without moving
`gen_static` — versions (in the bodies) and blocked days — is read per query in the
query's own snapshot. A search whose snapshot shows another generation never uses the store.

Memory is bounded: one store per index (the previous one is dropped when its successor is
in place, so at most two exist during a build); `nbytes` reports its numpy arrays.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine

from infrastructure.search_columns_sets import ValueSets, value_sets
from infrastructure.search_embedded_cache import AnswerCache, Generation, read_generation

log = logging.getLogger("rentbook.search.columns")

Mode = Literal["off", "sync", "background"]
IntArray = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int32]
Mask = npt.NDArray[np.bool_]
Rids = npt.NDArray[np.int32]
Postings = tuple[Rids, npt.NDArray[np.int16]]  # rids, attributes

_DOCS = (
    "SELECT rid, id, category, category_label, price_amount, currency, capacity, units, "
    "booking_mode, booking_unit, rating, created_at, lat, lng FROM search_docs"
)
# group_concat walks each word's rows once for both lists, so they stay aligned
_TERMS = "SELECT word, group_concat(doc), group_concat(attr) FROM search_terms GROUP BY word"
_AMENITIES = "SELECT amenity, doc, label FROM search_amenities"
BUILD_DUTY = 3  # background builds take at most ~1/(1 + BUILD_DUTY) of a core
BLOCKED_DAYS_HELD = 1024  # days (or hours) of blocked rids kept per store
WORD_ROWS_HELD = 64  # word rows (2 bytes per rid) and rank orders (4 per match) kept
BODIES_HELD = 8192  # page bodies (~650 bytes each) kept per store, for one write generation


@dataclass(frozen=True)
class Coded:
    """A text column as int codes into its sorted distinct values (-1: NULL), so code
    order is SQLite's BINARY (code point) order and MIN over codes is MIN over values."""

    codes: Codes
    values: tuple[str, ...]

    def code(self, value: str | None) -> int | None:
        """The code of `value`, or None when no document holds it."""
        if value is None:
            return None
        i = bisect.bisect_left(self.values, value)
        return i if i < len(self.values) and self.values[i] == value else None


class BodyCache:
    """The bodies pages showed, as of one write generation (`gen_all`): a body moves with
    every write (its version, its blocked days), so entries are only ever handed to a query
    whose snapshot shows that same generation; a newer one starts the cache afresh."""

    def __init__(self, held: int) -> None:
        self._held = held
        self._lock = threading.Lock()
        self._gen_all = -1
        self._bodies: dict[int, bytes] = {}

    def get(self, gen_all: int, rids: Sequence[int]) -> dict[int, bytes]:
        with self._lock:
            if gen_all != self._gen_all:
                return {}
            return {r: b for r in rids if (b := self._bodies.get(r)) is not None}

    def put(self, gen_all: int, bodies: dict[int, bytes]) -> None:
        with self._lock:
            if gen_all > self._gen_all:
                self._gen_all, self._bodies = gen_all, {}
            if gen_all == self._gen_all:
                if len(self._bodies) + len(bodies) > self._held:
                    self._bodies = {}
                self._bodies.update(bodies)


def coded(values: Sequence[str | None], size: int, at: IntArray) -> Coded:
    distinct = tuple(sorted({v for v in values if v is not None}))
    index = {v: i for i, v in enumerate(distinct)}
    codes = np.full(size, -1, np.int32)
    codes[at] = [-1 if v is None else index[v] for v in values]
    return Coded(codes, distinct)


def floats(values: Sequence[Any], size: int, at: IntArray) -> Floats:
    out = np.full(size, np.nan)
    out[at] = [np.nan if v is None else float(v) for v in values]
    return out


def single_labels(n_keys: int, key_codes: Codes, label_codes: Codes) -> Codes:
    """Per key code: its one label code, or -1 when the index spells it several ways."""
    out = np.full(n_keys, -1, np.int32)
    keep = key_codes >= 0
    pairs = np.unique(np.stack([key_codes[keep], label_codes[keep]]), axis=1)
    keys, counts = np.unique(pairs[0], return_counts=True)
    once = np.isin(pairs[0], keys[counts == 1])
    out[pairs[0][once]] = pairs[1][once]
    return out


def rank(size: int, rids: Sequence[int], keys: Sequence[Any]) -> IntArray:
    """Each rid's position in the order of `keys` (absent rids last)."""
    out = np.full(size, np.iinfo(np.int64).max // 4, np.int64)
    order = sorted(range(len(rids)), key=keys.__getitem__)
    out[np.asarray(rids, np.int64)[order]] = np.arange(len(order), dtype=np.int64)
    return out


def walk_order(ranks: IntArray, present: Mask) -> Rids:
    """The present rids in the order of `ranks`: a broad query walks it to its page."""
    rids = np.flatnonzero(present)
    return rids[np.argsort(ranks[rids], kind="stable")].astype(np.int32)


@dataclass(frozen=True)
class ColumnStore:
    generation: tuple[str, int]  # (epoch, gen_static) it was read under
    present: Mask  # rid -> a document holds it
    category: Coded
    category_label: Coded
    currency: Coded
    booking_mode: Coded
    booking_unit: Coded
    price: Floats
    capacity: Floats
    units: Floats
    lat: Floats
    lng: Floats
    # ranks: rating desc, created_at desc, id asc (the tiebreak, and the `rating` sort);
    # and each explicit sort with that tiebreak (SQLite: NULL first ascending, last descending)
    tiebreak: IntArray
    price_asc: IntArray
    price_desc: IntArray
    newest: IntArray
    postings: dict[str, Postings]
    amenity_keys: tuple[str, ...]
    amenity_labels: tuple[str, ...]
    amenity_rids: npt.NDArray[np.int32]  # one entry per (amenity, doc) row, by rid
    amenity_starts: IntArray  # rid -> its first row (rid + 1 -> past its last)
    amenity_key: Codes
    amenity_label: Codes
    by_amenity: dict[str, npt.NDArray[np.int32]]
    category_single: Codes  # per key: its one label, or -1 (see `single_labels`)
    # (gen_all, table, day) -> the rids blocked that day: dated queries of one write
    # generation share them; bounded, and dropped with the store
    blocked_days: AnswerCache
    bodies: BodyCache  # the page bodies of one write generation (see `BodyCache`)
    amenity_single: Codes
    # broad queries (see search_columns_sets): the facets as sets of rids, each sort order
    # as rids to walk, and the priced rids by price (the price range's two ends)
    category_sets: ValueSets
    amenity_sets: ValueSets
    walks: dict[str, Rids]  # "tiebreak", "price_asc", "price_desc", "newest"
    by_price: Rids
    word_rows: AnswerCache  # word rows and rank orders (search_columns_text), bounded
    build_ms: float

    @property
    def size(self) -> int:
        return len(self.present)

    @cached_property
    def documents(self) -> int:
        return int(self.present.sum())

    def nbytes(self) -> int:
        arrays: list[Any] = [
            v.nbytes if isinstance(v, np.ndarray) else v.codes.nbytes
            for v in self.__dict__.values()
            if isinstance(v, np.ndarray | Coded)
        ]
        postings = sum(r.nbytes + a.nbytes for r, a in self.postings.values())
        amenities = sum(v.nbytes for v in self.by_amenity.values())
        sets = self.category_sets.nbytes + self.amenity_sets.nbytes + self.by_price.nbytes
        walks = sum(v.nbytes for v in self.walks.values())
        return int(sum(arrays) + postings + amenities + sets + walks)

    def stats(self) -> dict[str, Any]:
        return {
            "generation": list(self.generation),
            "documents": self.documents,
            "words": len(self.postings),
            "array_bytes": self.nbytes(),
            "build_ms": round(self.build_ms, 1),
        }


def build(conn: Connection, generation: Generation) -> ColumnStore:
    """Reads the index in `conn`'s snapshot, which must be the one `generation` was read in."""
    t0 = time.perf_counter()
    docs = conn.exec_driver_sql(_DOCS).all()
    size = 1 + max((int(r[0]) for r in docs), default=0)
    rids = [int(r[0]) for r in docs]
    at = np.asarray(rids, np.int64)
    present = np.zeros(size, np.bool_)
    present[at] = True
    col = list(zip(*docs, strict=True)) if docs else [()] * 14
    ids, rating, created = col[1], col[10], col[11]
    tiebreak_key = [(-float(r), -int(c), i) for r, c, i in zip(rating, created, ids, strict=True)]
    price = col[4]
    postings: dict[str, Postings] = {}
    for word, doc_list, attr_list in conn.exec_driver_sql(_TERMS):
        postings[str(word)] = (
            np.fromstring(doc_list, dtype=np.int32, sep=","),
            np.fromstring(attr_list, dtype=np.int16, sep=","),
        )
    amenity_rows = conn.exec_driver_sql(_AMENITIES + " ORDER BY doc").all()
    a_keys = tuple(sorted({str(r[0]) for r in amenity_rows}))
    a_labels = tuple(sorted({str(r[2]) for r in amenity_rows}))
    key_index = {v: i for i, v in enumerate(a_keys)}
    label_index = {v: i for i, v in enumerate(a_labels)}
    amenity_rids = np.array([int(r[1]) for r in amenity_rows], np.int32)
    amenity_key = np.array([key_index[str(r[0])] for r in amenity_rows], np.int32)
    by_amenity = {k: np.sort(amenity_rids[amenity_key == i]) for i, k in enumerate(a_keys)}
    category, category_label = coded(col[2], size, at), coded(col[3], size, at)
    amenity_label = np.array([label_index[str(r[2])] for r in amenity_rows], np.int32)
    category_single = single_labels(len(category.values), category.codes, category_label.codes)
    amenity_single = single_labels(len(a_keys), amenity_key, amenity_label)
    tiebreak = rank(size, rids, tiebreak_key)
    ranks = {
        "tiebreak": tiebreak,
        "price_asc": rank(
            size,
            rids,
            [(p is not None, p or 0, t) for p, t in zip(price, tiebreak_key, strict=True)],
        ),
        "price_desc": rank(
            size,
            rids,
            [(p is None, -(p or 0), t) for p, t in zip(price, tiebreak_key, strict=True)],
        ),
        "newest": rank(size, rids, [(t[1], t[0], t[2]) for t in tiebreak_key]),
    }
    prices = floats(price, size, at)
    priced = np.flatnonzero(~np.isnan(prices))
    with_category = np.flatnonzero(category.codes >= 0).astype(np.int32)
    return ColumnStore(
        generation=(generation[0], generation[2]),
        present=present,
        category=category,
        category_label=category_label,
        currency=coded(col[5], size, at),
        booking_mode=coded(col[8], size, at),
        booking_unit=coded(col[9], size, at),
        price=prices,
        capacity=floats(col[6], size, at),
        units=floats(col[7], size, at),
        lat=floats(col[12], size, at),
        lng=floats(col[13], size, at),
        tiebreak=tiebreak,
        price_asc=ranks["price_asc"],
        price_desc=ranks["price_desc"],
        newest=ranks["newest"],
        postings=postings,
        amenity_keys=a_keys,
        amenity_labels=a_labels,
        amenity_rids=amenity_rids,
        amenity_starts=np.searchsorted(amenity_rids, np.arange(size + 1)).astype(np.int64),
        amenity_key=amenity_key,
        amenity_label=amenity_label,
        by_amenity=by_amenity,
        category_single=category_single,
        amenity_single=amenity_single,
        category_sets=value_sets(
            size,
            with_category,
            category.codes[with_category],
            category_label.codes[with_category],
            len(category.values),
            category_single,
        ),
        amenity_sets=value_sets(
            size, amenity_rids, amenity_key, amenity_label, len(a_keys), amenity_single
        ),
        walks={name: walk_order(r, present) for name, r in ranks.items()},
        by_price=priced[np.argsort(prices[priced], kind="stable")].astype(np.int32),
        word_rows=AnswerCache(WORD_ROWS_HELD),
        blocked_days=AnswerCache(BLOCKED_DAYS_HELD),
        bodies=BodyCache(BODIES_HELD),
        build_ms=(time.perf_counter() - t0) * 1000,
    )


class ColumnHolder:
    """The current store of one index. `sync` builds in the asking query's snapshot (tests,
    small indexes); `background` answers None (the caller runs its SQL) while one thread
    builds the store for the newest generation in a snapshot of its own."""

    def __init__(self, engine: Engine, mode: Mode) -> None:
        self._engine = engine
        self.mode = mode
        self._store: ColumnStore | None = None
        self._lock = threading.Lock()
        self._building = False
        self._rest_until = 0.0  # monotonic: no background build starts before it

    @property
    def store(self) -> ColumnStore | None:
        return self._store

    def clear(self) -> None:
        self._store = None

    def get(self, conn: Connection, generation: Generation | None) -> ColumnStore | None:
        if self.mode == "off" or generation is None:
            return None
        store = self._store
        if store is not None and store.generation == (generation[0], generation[2]):
            return store
        if self.mode == "sync":
            store = build(conn, generation)
            self._replace(store)
            return store
        self._start_build()
        return None

    def _replace(self, store: ColumnStore) -> None:
        with self._lock:
            self._store = store
        log.info("search column store built", extra={"column_store": store.stats()})

    def _start_build(self) -> None:
        with self._lock:
            if self._building or time.monotonic() < self._rest_until:
                return
            self._building = True
        threading.Thread(target=self._build_now, name="search-columns", daemon=True).start()

    def _build_now(self) -> None:
        try:
            with self._engine.connect() as conn, conn.begin():
                generation = read_generation(conn)
                if generation is not None:
                    self._replace(build(conn, generation))
        except Exception:  # the SQL path keeps answering; the next query tries again
            log.exception("search column store build failed")
        finally:
            with self._lock:
                self._building = False
                # Static writes arriving faster than builds would keep a core busy
                # rebuilding: rest BUILD_DUTY times the build's length (queries run SQL).
                store = self._store
                rest = BUILD_DUTY * (store.build_ms / 1000 if store else 1.0)
                self._rest_until = time.monotonic() + rest
