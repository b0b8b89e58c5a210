"""The SearchIndex port on Meilisearch, through the official client.

Meilisearch has no conditional write, so versioned upserts and deletes read the stored
versions of the batch's ids first and drop what is stale; the projection is the index's only
writer, so nothing can slip in between the read and the write. Every task is awaited and a
failed one raises `SearchIndexError` with Meilisearch's own message.

Documents are stored as given plus `status: "active"` (the index only ever holds active
listings; deactivation deletes), so a tenant token can carry the search rule
`status = active` as defence in depth; `get` and hits drop the field again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchError

from application.search import SearchHit, SearchIndex, SearchIndexError, SearchQuery, SearchResult

SEARCHABLE = [
    "title",
    "category",
    "category_data",
    "city",
    "country",
    "amenities",
    "description",
]
FILTERABLE = [
    "id",
    "status",
    "category",
    "price_amount",
    "currency",
    "capacity",
    "units",
    "amenities",
    "booking_mode",
    "booking_unit",
    "blocked_nights",
    "blocked_hours",
    "rating",
    "_geo",
]
SORTABLE = ["price_amount", "rating", "created_at", "id", "_geo"]
RANKING_RULES = [
    "sort",
    "words",
    "typo",
    "proximity",
    "attribute",
    "exactness",
    "rating:desc",
    "created_at:desc",
]
FACETS = ["category", "amenities", "price_amount"]
TIEBREAK = ["rating:desc", "created_at:desc", "id:asc"]
SORT_KEYS = {
    "price_asc": "price_amount:asc",
    "price_desc": "price_amount:desc",
    "rating": "rating:desc",
    "newest": "created_at:desc",
}
STATUS_FIELD = "status"
TENANT_FILTER = "status = active"
SEARCH_KEY_NAME = "rentbook-search"
EARTH_RADIUS_M = 6371e3  # geoutils' haversine, which Meilisearch uses


def settings_body(*, max_values_per_facet: int, max_total_hits: int) -> dict[str, Any]:
    return {
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": FILTERABLE,
        "sortableAttributes": SORTABLE,
        "rankingRules": RANKING_RULES,
        "typoTolerance": {
            "enabled": True,
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        },
        "faceting": {"maxValuesPerFacet": max_values_per_facet},
        "pagination": {"maxTotalHits": max_total_hits},
    }


def quote(value: str) -> str:
    """A filter string literal: Meilisearch unescapes `\\"` and `\\\\` inside double quotes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def number(value: float) -> str:
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return str(value) if isinstance(value, int) else repr(float(value))


def radius_meters(radius_km: float) -> int:
    """`_geoRadius` takes whole meters; every backend rounds the same way (half up)."""
    return math.floor(radius_km * 1000 + 0.5)


def build_filter(query: SearchQuery) -> str | None:
    clauses: list[str] = []
    if query.category is not None:
        clauses.append(f"category = {quote(query.category)}")
    if query.min_price is not None:
        clauses.append(f"price_amount >= {number(query.min_price)}")
    if query.max_price is not None:
        clauses.append(f"price_amount <= {number(query.max_price)}")
    if query.currency is not None:
        clauses.append(f"currency = {quote(query.currency)}")
    if query.guests is not None:
        clauses.append(f"capacity >= {number(query.guests)}")
    if query.units is not None:
        clauses.append(f"units >= {number(query.units)}")
    clauses.extend(f"amenities = {quote(a)}" for a in query.amenities)
    if query.instant_book is not None:
        clauses.append(f"booking_mode = {quote('instant' if query.instant_book else 'request')}")
    if query.booking_units:
        clauses.append(f"booking_unit IN [{', '.join(quote(u) for u in query.booking_units)}]")
    if query.free_nights:
        clauses.append(f"NOT blocked_nights IN [{', '.join(map(number, query.free_nights))}]")
    if query.free_hours:
        clauses.append(f"NOT blocked_hours IN [{', '.join(map(number, query.free_hours))}]")
    if query.lat is not None and query.lng is not None and query.radius_km is not None:
        clauses.append(
            f"_geoRadius({number(query.lat)}, {number(query.lng)}, "
            f"{radius_meters(query.radius_km)})"
        )
    if query.bbox is not None:
        # The port takes (top-left, bottom-right); Meilisearch takes (top-right, bottom-left).
        top, left, bottom, right = query.bbox
        clauses.append(
            f"_geoBoundingBox([{number(top)}, {number(right)}], [{number(bottom)}, {number(left)}])"
        )
    return " AND ".join(clauses) or None


def build_sort(query: SearchQuery) -> list[str] | None:
    if query.sort == "distance":
        if query.lat is None or query.lng is None:
            return None  # no point to measure from: relevance
        return [f"_geoPoint({number(query.lat)}, {number(query.lng)}):asc", *TIEBREAK]
    key = SORT_KEYS.get(query.sort)
    if key is None:
        return None
    return [key, *(k for k in TIEBREAK if k.split(":")[0] != key.split(":")[0])]


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Meilisearch's distance (geoutils' haversine, R = 6371 km)."""

    def hav(theta: float) -> float:
        return (1.0 - math.cos(theta)) / 2.0

    p1, p2 = math.radians(lat1), math.radians(lat2)
    l1, l2 = math.radians(lng1), math.radians(lng2)
    total = hav(p2 - p1) + math.cos(p1) * math.cos(p2) * hav(l2 - l1)
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, total)))


def distance_km(meters: float) -> float:
    """Meilisearch reports `_geoDistance` in whole meters; hits carry it in km, 3 decimals."""
    return round(math.floor(meters + 0.5) / 1000, 3)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MeilisearchIndex(SearchIndex):
    def __init__(
        self,
        url: str,
        api_key: str | None,
        index_uid: str = "listings",
        *,
        timeout_ms: int = 10_000,
        task_timeout_ms: int = 60_000,
        batch_size: int = 1_000,
        max_values_per_facet: int = 100,
        max_total_hits: int = 1_000,
    ) -> None:
        self._client = meilisearch.Client(
            url, api_key, timeout=max(1, math.ceil(timeout_ms / 1000))
        )
        self._index_uid = index_uid
        self._index = self._client.index(index_uid)
        self._task_timeout_ms = task_timeout_ms
        self._batch_size = batch_size
        self._max_values_per_facet = max_values_per_facet
        self._max_total_hits = max_total_hits

    @property
    def index_uid(self) -> str:
        return self._index_uid

    # --- tasks -------------------------------------------------------------------------

    def _wait(self, task_uid: int, *, allow_codes: tuple[str, ...] = ()) -> None:
        try:
            task = self._client.wait_for_task(
                task_uid, timeout_in_ms=self._task_timeout_ms, interval_in_ms=50
            )
        except MeilisearchError as error:
            raise SearchIndexError(f"task {task_uid}: {error.message}") from error
        if task.status == "succeeded":
            return
        failure = task.error or {}
        if task.status == "failed" and failure.get("code") in allow_codes:
            return
        message = failure.get("message") or f"task {task_uid} ended {task.status}"
        raise SearchIndexError(f"{task.type} task {task_uid} {task.status}: {message}")

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MeilisearchError as error:
            raise SearchIndexError(f"{what}: {error.message}") from error

    # --- SearchIndex -------------------------------------------------------------------

    def ensure_settings(self) -> None:
        created = self._call(
            "create index",
            self._client.create_index,
            self._index_uid,
            {"primaryKey": "id"},
        )
        self._wait(created.task_uid, allow_codes=("index_already_exists",))
        body = settings_body(
            max_values_per_facet=self._max_values_per_facet,
            max_total_hits=self._max_total_hits,
        )
        task = self._call("update settings", self._index.update_settings, body)
        self._wait(task.task_uid)

    def _stored_versions(self, ids: Sequence[str]) -> dict[str, int]:
        if not ids:
            return {}
        found = self._call(
            "fetch versions",
            self._index.get_documents,
            {
                "filter": f"id IN [{', '.join(quote(i) for i in ids)}]",
                "fields": ["id", "version"],
                "limit": len(ids),
            },
        )
        return {str(d["id"]): int(d["version"]) for d in map(dict, found.results)}

    def upsert(self, documents: Sequence[dict[str, Any]]) -> None:
        # The newest version of each id in this call wins, then the stored one is compared.
        latest: dict[str, dict[str, Any]] = {}
        for doc in documents:
            current = latest.get(doc["id"])
            if current is None or int(doc["version"]) >= int(current["version"]):
                latest[doc["id"]] = doc
        tasks: list[int] = []
        for batch in _chunks(list(latest.values()), self._batch_size):
            stored = self._stored_versions([d["id"] for d in batch])
            fresh = [
                {**d, STATUS_FIELD: "active"}
                for d in batch
                if stored.get(d["id"], -1) <= int(d["version"])
            ]
            if fresh:
                info = self._call(
                    "add documents", self._index.add_documents, fresh, primary_key="id"
                )
                tasks.append(info.task_uid)
        for uid in tasks:
            self._wait(uid)

    def delete(self, ids_and_versions: Sequence[tuple[str, int]]) -> None:
        tasks: list[int] = []
        for batch in _chunks(list(ids_and_versions), self._batch_size):
            stored = self._stored_versions([i for i, _ in batch])
            doomed = sorted({i for i, v in batch if i in stored and stored[i] <= v})
            if doomed:
                info = self._call(
                    "delete documents",
                    self._index.delete_documents,
                    filter=f"id IN [{', '.join(quote(i) for i in doomed)}]",
                )
                tasks.append(info.task_uid)
        for uid in tasks:
            self._wait(uid)

    def get(self, listing_id: str) -> dict[str, Any] | None:
        found = self._call(
            "get document",
            self._index.get_documents,
            {"filter": f"id = {quote(listing_id)}", "limit": 1},
        )
        if not found.results:
            return None
        doc = dict(found.results[0])
        doc.pop(STATUS_FIELD, None)
        return doc

    def clear(self) -> None:
        info = self._call("delete all documents", self._index.delete_all_documents)
        self._wait(info.task_uid)

    def search_params(self, query: SearchQuery) -> dict[str, Any]:
        params: dict[str, Any] = {"offset": query.offset, "limit": query.limit}
        filter_ = build_filter(query)
        if filter_:
            params["filter"] = filter_
        sort = build_sort(query)
        if sort:
            params["sort"] = sort
        if query.facets:
            params["facets"] = FACETS
        return params

    def search(self, query: SearchQuery) -> SearchResult:
        response = self._call("search", self._index.search, query.q, self.search_params(query))
        has_point = query.lat is not None and query.lng is not None
        hits: list[SearchHit] = []
        for raw in response["hits"]:
            doc = dict(raw)
            geo_distance = doc.pop("_geoDistance", None)
            doc.pop(STATUS_FIELD, None)
            km: float | None = None
            if has_point:
                assert query.lat is not None and query.lng is not None
                meters = (
                    float(geo_distance)
                    if geo_distance is not None
                    else haversine_m(query.lat, query.lng, doc["_geo"]["lat"], doc["_geo"]["lng"])
                )
                km = distance_km(meters)
            hits.append(SearchHit(document=doc, distance_km=km))
        facets: dict[str, dict[str, int]] = {}
        price_stats: dict[str, int] | None = None
        if query.facets:
            distribution = response.get("facetDistribution") or {}
            facets = {
                name: {str(k): int(v) for k, v in (distribution.get(name) or {}).items()}
                for name in ("category", "amenities")
            }
            stats = (response.get("facetStats") or {}).get("price_amount")
            if stats is not None:
                price_stats = {"min": int(stats["min"]), "max": int(stats["max"])}
        return SearchResult(
            hits=hits,
            total_estimate=int(response.get("estimatedTotalHits", len(hits))),
            facets=facets,
            price_stats=price_stats,
        )

    # --- keys for browsers -------------------------------------------------------------

    def _search_key(self) -> tuple[str, str]:
        """(uid, key) of a search-only, non-expiring key for this index: found or created."""
        keys = self._call("list keys", self._client.get_keys, {"limit": 1000})
        for key in keys.results:
            if (
                key.actions == ["search"]
                and key.indexes in ([self._index_uid], ["*"])
                and key.expires_at is None
            ):
                return key.uid, key.key
        created = self._call(
            "create key",
            self._client.create_key,
            {
                "name": SEARCH_KEY_NAME,
                "description": "Rentbook: search-only key that signs browser tenant tokens",
                "actions": ["search"],
                "indexes": [self._index_uid],
                "expiresAt": None,
            },
        )
        return created.uid, created.key

    def tenant_token(self, expires_at: datetime) -> str:
        """A JWT for browsers: search only, this index only, active listings only."""
        uid, key = self._search_key()
        try:
            return self._client.generate_tenant_token(
                api_key_uid=uid,
                search_rules={self._index_uid: {"filter": TENANT_FILTER}},
                expires_at=expires_at,
                api_key=key,
            )
        except ValueError as error:
            raise SearchIndexError(f"tenant token: {error}") from error
