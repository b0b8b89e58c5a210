"""FakeMeilisearchIndex: an in-memory reference of Meilisearch's query semantics, configured
as `infrastructure.search_meilisearch` configures the real index, written from Meilisearch's
documentation (and milli's source where the documentation is silent). It is the oracle of
`tests/contract/`: every backend must return what it returns.

What it models, rule by rule (`application/search.py` states the contract):
- tokens: NFKD, combining marks dropped, lower case, split on anything not a letter or digit;
  `category_data` values are flattened (a nested object is one field per leaf, keys are not
  searched), arrays are one field, booleans are "true"/"false", numbers as JSON prints them.
- matching strategy "last" (Meilisearch's default): documents matching every query word
  first, then those matching every word but the last, and so on; a document must match at
  least the first word.
- typos: query words of 1-4 characters match exactly, 5-8 with one typo, 9+ with two
  (optimal-string-alignment Damerau-Levenshtein); a typo on the first letter counts as two,
  so a 5-8 letter word must keep its first letter. The last query word (unless the query
  ends with a separator) also matches any word it is a prefix of, with the same typo
  budget applied to the best prefix.
- ranking without `sort`: words desc, typos asc (sum of each word's best match), attribute
  asc (sum over query words of the weight of the best attribute among that word's best
  matches), exactness (query words matched by the exact word, not a prefix) desc,
  rating desc, created_at desc, then id asc where Meilisearch uses its internal order.
  Proximity is not modelled.
- `meilisearch_extras=True` also models two finer points of Meilisearch's `attribute` and
  `exactness` rules that the contract leaves out: the position of the word in its attribute
  (bucketed as milli does) and the exact-attribute phase (an attribute equal to the query,
  then one starting with it). The contract suite asserts its corpus is blind to them.
- filters: `=` on strings compares case-insensitively after NFKD; arrays match when any
  element does; `NOT x IN [..]` keeps documents with none of the values; `_geoRadius` is
  inclusive in whole meters with geoutils' haversine (R = 6371 km); `_geoBoundingBox` is
  inclusive and wraps across the antimeridian when left > right.
- facets: counts per value over all matches, values sorted alphabetically and cut at
  `maxValuesPerFacet`; price stats min/max over all matches (None without matches).
- pagination: hits beyond `maxTotalHits` are never returned; the total is exact.
- writes: a batch is refused whole (SearchIndexError) when a `_geo` is invalid, as Meilisearch
  fails the task; a stored higher version is never replaced; delete at v removes <= v.
"""

from __future__ import annotations

import copy
import math
import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from application.search import SearchHit, SearchIndex, SearchIndexError, SearchQuery, SearchResult

SEARCHABLE = (
    "title",
    "category",
    "category_data",
    "city",
    "country",
    "amenities",
    "description",
)
EARTH_RADIUS_M = 6371e3
HARD_SEPARATORS = re.compile(r"[.!?;:]")
WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def facet_key(value: Any) -> str:
    return unicodedata.normalize("NFKD", str(value).strip()).lower()


def positioned_tokens(text: str) -> list[tuple[int, str]]:
    """Words with milli-like positions: +1 per word, +8 across a hard separator."""
    out: list[tuple[int, str]] = []
    position = -1
    cursor = 0
    folded = fold(text)
    for match in WORD.finditer(folded):
        gap = folded[cursor : match.start()]
        position += 8 if (position >= 0 and HARD_SEPARATORS.search(gap)) else 1
        out.append((position, match.group()))
        cursor = match.end()
    return out


def tokens(text: str) -> list[str]:
    return [w for _, w in positioned_tokens(text)]


def json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, list):
        parts = [t for t in (json_text(v) for v in value) if t is not None]
        return ". ".join(parts) if parts else None
    if isinstance(value, dict):
        parts = [f"{k}: {t}" for k, v in value.items() if (t := json_text(v)) is not None]
        return ". ".join(parts) if parts else None
    return None


def _leaves(path: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(f"{path}.{key}", inner)
    else:
        yield path, value


def document_fields(doc: dict[str, Any]) -> list[tuple[int, list[tuple[int, str]]]]:
    """(attribute weight, positioned tokens) for each searchable field of the document."""
    fields: list[tuple[int, list[tuple[int, str]]]] = []
    for weight, attribute in enumerate(SEARCHABLE):
        for _path, value in _leaves(attribute, doc.get(attribute)):
            text = json_text(value)
            if text is not None:
                fields.append((weight, positioned_tokens(text)))
    return fields


def osa_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment: adjacent transpositions cost 1)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def typo_budget(word: str) -> int:
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def typo_cost(term: str, word: str, *, prefix: bool) -> int | None:
    """Typos needed for `word` to match `term`, or None; a first-letter typo counts as 2."""
    if word == term or (prefix and word.startswith(term)):
        return 0
    budget = typo_budget(term)
    if budget == 0:
        return None
    candidates = [word[:k] for k in range(1, len(word) + 1)] if prefix else [word]
    best = min(osa_distance(term, c) for c in candidates)
    same_first = word[:1] == term[:1]
    if same_first and best <= budget:
        return best
    if not same_first and best == 1 and budget == 2:
        return 2
    return None


def bucketed_position(relative: int) -> int:
    if relative < 16:
        return relative
    if relative < 24:
        return 24
    return int(2 ** math.ceil(math.log2(relative)))


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    def hav(theta: float) -> float:
        return (1.0 - math.cos(theta)) / 2.0

    p1, p2 = math.radians(lat1), math.radians(lat2)
    l1, l2 = math.radians(lng1), math.radians(lng2)
    total = hav(p2 - p1) + math.cos(p1) * math.cos(p2) * hav(l2 - l1)
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, total)))


def radius_meters(radius_km: float) -> int:
    return math.floor(radius_km * 1000 + 0.5)


def _valid_geo(geo: Any) -> bool:
    if not isinstance(geo, dict):
        return False
    lat, lng = geo.get("lat"), geo.get("lng")
    if not isinstance(lat, (int, float)) or not isinstance(lng, (int, float)):
        return False
    if isinstance(lat, bool) or isinstance(lng, bool):
        return False
    return -90 <= lat <= 90 and -180 <= lng <= 180


class FakeMeilisearchIndex(SearchIndex):
    def __init__(
        self,
        *,
        max_total_hits: int = 1_000,
        max_values_per_facet: int = 100,
        meilisearch_extras: bool = False,
    ) -> None:
        self._docs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.settings_applied = False
        self.max_total_hits = max_total_hits
        self.max_values_per_facet = max_values_per_facet
        self.extras = meilisearch_extras

    # --- writes ------------------------------------------------------------------------

    def ensure_settings(self) -> None:
        self.settings_applied = True

    def upsert(self, documents: Sequence[dict[str, Any]]) -> None:
        for doc in documents:
            if not isinstance(doc.get("id"), str) or not doc["id"]:
                raise SearchIndexError(f"missing_document_id: {doc.get('id')!r}")
            if not _valid_geo(doc.get("_geo")):
                raise SearchIndexError(f"invalid_document_geo_field: {doc['id']}")
        with self._lock:
            for doc in documents:
                stored = self._docs.get(doc["id"])
                if stored is None or int(stored["version"]) <= int(doc["version"]):
                    self._docs[doc["id"]] = copy.deepcopy(dict(doc))

    def delete(self, ids_and_versions: Sequence[tuple[str, int]]) -> None:
        with self._lock:
            for listing_id, version in ids_and_versions:
                stored = self._docs.get(listing_id)
                if stored is not None and int(stored["version"]) <= version:
                    del self._docs[listing_id]

    def get(self, listing_id: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._docs.get(listing_id)
            return copy.deepcopy(doc) if doc is not None else None

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()

    # --- filters -----------------------------------------------------------------------

    def _passes(self, doc: dict[str, Any], q: SearchQuery) -> bool:
        def eq(field: str, value: str) -> bool:
            stored = doc.get(field)
            values = stored if isinstance(stored, list) else [stored]
            return any(v is not None and facet_key(v) == facet_key(value) for v in values)

        checks = [
            q.category is None or eq("category", q.category),
            q.min_price is None or doc["price_amount"] >= q.min_price,
            q.max_price is None or doc["price_amount"] <= q.max_price,
            q.currency is None or eq("currency", q.currency),
            q.guests is None or doc["capacity"] >= q.guests,
            q.units is None or doc["units"] >= q.units,
            all(eq("amenities", a) for a in q.amenities),
            q.instant_book is None
            or eq("booking_mode", "instant" if q.instant_book else "request"),
            not q.booking_units or any(eq("booking_unit", u) for u in q.booking_units),
            not set(q.free_nights) & set(doc.get("blocked_nights") or []),
            not set(q.free_hours) & set(doc.get("blocked_hours") or []),
        ]
        if not all(checks):
            return False
        geo = doc["_geo"]
        if q.lat is not None and q.lng is not None and q.radius_km is not None:
            meters = haversine_m(q.lat, q.lng, geo["lat"], geo["lng"])
            if meters > radius_meters(q.radius_km):
                return False
        if q.bbox is not None:
            top, left, bottom, right = q.bbox
            if not bottom <= geo["lat"] <= top:
                return False
            lng = geo["lng"]
            inside = left <= lng <= right if left <= right else (lng >= left or lng <= right)
            if not inside:
                return False
        return True

    # --- relevance ---------------------------------------------------------------------

    def _relevance(self, doc: dict[str, Any], terms: list[str], prefix: bool) -> tuple | None:
        fields = document_fields(doc)
        for kept in range(len(terms), 0, -1):
            words = terms[:kept]
            per_term = []
            for i, term in enumerate(words):
                is_prefix = prefix and i == len(terms) - 1
                matches = [
                    (cost, weight, position, word == term)
                    for weight, field in fields
                    for position, word in field
                    if (cost := typo_cost(term, word, prefix=is_prefix)) is not None
                ]
                if not matches:
                    break
                per_term.append(matches)
            else:
                return self._bucket(kept, words, per_term, fields)
        return None

    def _bucket(
        self,
        kept: int,
        words: list[str],
        per_term: list[list[tuple[int, int, int, bool]]],
        fields: list[tuple[int, list[tuple[int, str]]]],
    ) -> tuple:
        typos = attribute = position = exact_words = 0
        for matches in per_term:
            cost = min(m[0] for m in matches)
            best = [m for m in matches if m[0] == cost]
            weight = min(m[1] for m in best)
            typos += cost
            attribute += weight
            position += min(bucketed_position(m[2]) for m in best if m[1] == weight)
            exact_words += any(m[3] for m in matches)
        key: tuple = (-kept, typos, attribute)
        if self.extras:
            field_words = [[w for _, w in field] for _, field in fields]
            exact_attribute = (
                0
                if any(f == words for f in field_words)
                else 1
                if any(f[: len(words)] == words for f in field_words)
                else 2
            )
            key += (position, exact_attribute)
        return (*key, -exact_words)

    # --- search ------------------------------------------------------------------------

    def _order(self, doc: dict[str, Any], q: SearchQuery, relevance: tuple | None) -> tuple:
        tail = (-doc["rating"], -doc["created_at"], doc["id"])
        if q.sort == "distance" and q.lat is not None and q.lng is not None:
            geo = doc["_geo"]
            return (haversine_m(q.lat, q.lng, geo["lat"], geo["lng"]), *tail)
        if q.sort == "price_asc":
            return (doc["price_amount"], *tail)
        if q.sort == "price_desc":
            return (-doc["price_amount"], *tail)
        if q.sort == "rating":
            return tail
        if q.sort == "newest":
            return (-doc["created_at"], -doc["rating"], doc["id"])
        return (*(relevance or ()), *tail)

    def search(self, query: SearchQuery) -> SearchResult:
        with self._lock:
            docs = [copy.deepcopy(d) for d in self._docs.values()]
        terms = tokens(query.q)
        prefix = bool(query.q) and bool(WORD.fullmatch(fold(query.q)[-1:]))
        ranked: list[tuple[tuple, dict[str, Any]]] = []
        for doc in docs:
            if not self._passes(doc, query):
                continue
            relevance = None
            if terms:
                relevance = self._relevance(doc, terms, prefix)
                if relevance is None:
                    continue
            ranked.append((self._order(doc, query, relevance), doc))
        ranked.sort(key=lambda pair: pair[0])
        matched = [doc for _, doc in ranked]
        window = matched[: self.max_total_hits][query.offset : query.offset + query.limit]
        hits = [SearchHit(document=d, distance_km=self._distance(d, query)) for d in window]
        facets: dict[str, dict[str, int]] = {}
        price_stats: dict[str, int] | None = None
        if query.facets:
            facets = {name: self._facet(matched, name) for name in ("category", "amenities")}
            if matched:
                prices = [d["price_amount"] for d in matched]
                price_stats = {"min": min(prices), "max": max(prices)}
        return SearchResult(
            hits=hits, total_estimate=len(matched), facets=facets, price_stats=price_stats
        )

    def _facet(self, matched: list[dict[str, Any]], name: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        shown: dict[str, str] = {}
        for doc in matched:
            value = doc.get(name)
            seen = set()
            for v in value if isinstance(value, list) else [value]:
                if v is None or facet_key(v) in seen:
                    continue
                seen.add(facet_key(v))
                shown.setdefault(facet_key(v), str(v))
                counts[facet_key(v)] = counts.get(facet_key(v), 0) + 1
        keys = sorted(counts)[: self.max_values_per_facet]
        return {shown[k]: counts[k] for k in keys}

    @staticmethod
    def _distance(doc: dict[str, Any], q: SearchQuery) -> float | None:
        if q.lat is None or q.lng is None:
            return None
        meters = haversine_m(q.lat, q.lng, doc["_geo"]["lat"], doc["_geo"]["lng"])
        return round(math.floor(meters + 0.5) / 1000, 3)
