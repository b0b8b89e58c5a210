"""MeilisearchIndex against a local HTTP server that records request bodies and answers with
recorded Meilisearch responses; the live tests join when MEILISEARCH_URL is set."""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from application.search import SearchIndexError, SearchQuery
from infrastructure.search_meilisearch import MeilisearchIndex
from tests.contract.conftest import CORPUS, LIVE_SKIP_REASON

AT = "2025-07-01T10:00:00.000000Z"
KEY_UID = "6062abda-a5aa-4414-ac91-ecd7944c0f8d"


def task_info(uid: int, kind: str) -> dict[str, Any]:
    return {"taskUid": uid, "indexUid": "listings", "status": "enqueued", "type": kind,
            "enqueuedAt": AT}  # fmt: skip


def task(uid: int, kind: str, status: str, error: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "uid": uid, "indexUid": "listings", "status": status, "type": kind, "details": {},
        "error": error, "duration": "PT0.01S", "enqueuedAt": AT, "startedAt": AT,
        "finishedAt": AT if status in ("succeeded", "failed") else None,
    }  # fmt: skip


class Recorder(BaseHTTPRequestHandler):
    routes: dict[tuple[str, str], list[tuple[int, Any]]]
    requests: list[tuple[str, str, Any]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else None
        self.requests.append((self.command, self.path, body))
        answers = self.routes.get((self.command, urlsplit(self.path).path))
        status, payload = (404, {"message": "no route", "code": "not_found"})
        if answers:
            status, payload = answers.pop(0) if len(answers) > 1 else answers[0]
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


class FakeServer:
    def __init__(self) -> None:
        handler: type[Recorder] = type("Handler", (Recorder,), {"routes": {}, "requests": []})
        self.handler = handler
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def route(self, method: str, path: str, *answers: tuple[int, Any]) -> None:
        self.handler.routes[(method, path)] = list(answers)

    @property
    def requests(self) -> list[tuple[str, str, Any]]:
        return self.handler.requests

    def bodies(self, method: str, path: str) -> list[Any]:
        return [b for m, p, b in self.requests if m == method and urlsplit(p).path == path]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
def index(server: FakeServer) -> MeilisearchIndex:
    return MeilisearchIndex(server.url, "master-key", timeout_ms=2000, batch_size=2)


def test_settings_are_applied_and_awaited_once_the_index_exists(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    server.route("POST", "/indexes", (202, task_info(1, "indexCreation")))
    server.route("GET", "/tasks/1", (200, task(1, "indexCreation", "failed", {
        "message": "Index `listings` already exists.", "code": "index_already_exists",
        "type": "invalid_request", "link": "https://docs.meilisearch.com/errors#index_already_exists",
    })))  # fmt: skip
    server.route("PATCH", "/indexes/listings/settings", (202, task_info(2, "settingsUpdate")))
    server.route(
        "GET",
        "/tasks/2",
        (200, task(2, "settingsUpdate", "enqueued")),
        (200, task(2, "settingsUpdate", "processing")),
        (200, task(2, "settingsUpdate", "succeeded")),
    )
    index.ensure_settings()
    assert server.bodies("POST", "/indexes") == [{"uid": "listings", "primaryKey": "id"}]
    assert server.bodies("PATCH", "/indexes/listings/settings") == [{
        "searchableAttributes": ["title", "category", "category_data", "city", "country",
                                 "amenities", "description"],
        "filterableAttributes": ["id", "status", "category", "price_amount", "currency",
                                 "capacity", "units", "amenities", "booking_mode",
                                 "booking_unit", "blocked_nights", "blocked_hours", "rating",
                                 "_geo"],
        "sortableAttributes": ["price_amount", "rating", "created_at", "id", "_geo"],
        "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness",
                         "rating:desc", "created_at:desc"],
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
        "faceting": {"maxValuesPerFacet": 100},
        "pagination": {"maxTotalHits": 1000},
    }]  # fmt: skip
    polled = [p for m, p, _ in server.requests if p.startswith("/tasks/2")]
    assert len(polled) == 3  # waited through enqueued and processing
    order = [(m, urlsplit(p).path) for m, p, _ in server.requests]
    assert order.index(("PATCH", "/indexes/listings/settings")) > order.index(("GET", "/tasks/1"))


def test_a_failed_settings_task_raises_with_meilisearchs_message(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    server.route("POST", "/indexes", (202, task_info(1, "indexCreation")))
    server.route("GET", "/tasks/1", (200, task(1, "indexCreation", "succeeded")))
    server.route("PATCH", "/indexes/listings/settings", (202, task_info(2, "settingsUpdate")))
    server.route("GET", "/tasks/2", (200, task(2, "settingsUpdate", "failed", {
        "message": "Attribute `_geo` is reserved.",
        "code": "invalid_settings_filterable_attributes",
        "type": "invalid_request", "link": "https://docs.meilisearch.com/errors",
    })))  # fmt: skip
    with pytest.raises(SearchIndexError, match="Attribute `_geo` is reserved"):
        index.ensure_settings()


def test_upserts_drop_stale_versions_and_write_in_awaited_batches(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    a, b, c = (dict(d) for d in CORPUS[:3])
    server.route(
        "POST",
        "/indexes/listings/documents/fetch",
        (200, {"results": [{"id": a["id"], "version": 5}], "offset": 0, "limit": 2, "total": 1}),
        (200, {"results": [], "offset": 0, "limit": 1, "total": 0}),
    )
    server.route(
        "POST",
        "/indexes/listings/documents",
        (202, task_info(3, "documentAdditionOrUpdate")),
        (202, task_info(4, "documentAdditionOrUpdate")),
    )
    server.route("GET", "/tasks/3", (200, task(3, "documentAdditionOrUpdate", "succeeded")))
    server.route("GET", "/tasks/4", (200, task(4, "documentAdditionOrUpdate", "succeeded")))
    index.upsert([{**a, "version": 4}, b, c, {**b, "version": 0}])
    fetches = server.bodies("POST", "/indexes/listings/documents/fetch")
    assert fetches == [
        {"filter": f'id IN ["{a["id"]}", "{b["id"]}"]', "fields": ["id", "version"], "limit": 2},
        {"filter": f'id IN ["{c["id"]}"]', "fields": ["id", "version"], "limit": 1},
    ]
    writes = server.bodies("POST", "/indexes/listings/documents")
    assert writes == [[{**b, "status": "active"}], [{**c, "status": "active"}]]
    assert all(
        "primaryKey=id" in p
        for m, p, _ in server.requests
        if p.startswith("/indexes/listings/documents?")
    )
    assert {p for _, p, _ in server.requests if p.startswith("/tasks/")} == {"/tasks/3", "/tasks/4"}


def test_a_failed_document_task_raises_with_meilisearchs_message(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    server.route("POST", "/indexes/listings/documents/fetch",
                 (200, {"results": [], "offset": 0, "limit": 1, "total": 0}))  # fmt: skip
    server.route(
        "POST", "/indexes/listings/documents", (202, task_info(7, "documentAdditionOrUpdate"))
    )
    server.route("GET", "/tasks/7", (200, task(7, "documentAdditionOrUpdate", "failed", {
        "message": "The `_geo` field in the document with the id: `x` contains the following "
                   "unexpected fields: `{\"lat\":\"north\"}`.",
        "code": "invalid_document_geo_field", "type": "invalid_request",
        "link": "https://docs.meilisearch.com/errors#invalid_document_geo_field",
    })))  # fmt: skip
    with pytest.raises(SearchIndexError, match=r"invalid_document_geo_field|_geo` field"):
        index.upsert([dict(CORPUS[0])])


def test_deletes_only_what_is_at_or_below_the_given_version(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    a, b = CORPUS[0]["id"], CORPUS[1]["id"]
    server.route("POST", "/indexes/listings/documents/fetch", (200, {
        "results": [{"id": a, "version": 3}, {"id": b, "version": 9}],
        "offset": 0, "limit": 2, "total": 2,
    }))  # fmt: skip
    server.route(
        "POST", "/indexes/listings/documents/delete", (202, task_info(8, "documentDeletion"))
    )
    server.route("GET", "/tasks/8", (200, task(8, "documentDeletion", "succeeded")))
    index.delete([(a, 3), (b, 4)])
    assert server.bodies("POST", "/indexes/listings/documents/delete") == [
        {"filter": f'id IN ["{a}"]'}
    ]


def test_search_sends_filter_sort_and_facets_and_reads_the_answer(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    doc = dict(CORPUS[0])
    server.route("POST", "/indexes/listings/search", (200, {
        "hits": [{**doc, "status": "active", "_geoDistance": 1532}],
        "query": "loft", "processingTimeMs": 1, "limit": 5, "offset": 10,
        "estimatedTotalHits": 31,
        "facetDistribution": {"category": {"stay": 31}, "amenities": {"wifi": 31, "kitchen": 4},
                              "price_amount": {"9500": 1}},
        "facetStats": {"price_amount": {"min": 1800.0, "max": 45000.0}},
    }))  # fmt: skip
    result = index.search(SearchQuery(
        q="loft", category='st"ay\\', lat=38.72, lng=-9.14, radius_km=2.5,
        bbox=(39.0, -9.5, 38.5, -9.0), min_price=1000, max_price=20000, currency="EUR",
        guests=2, units=1, amenities=("wifi", "kitchen"), instant_book=True,
        free_nights=(20270, 20271), free_hours=(486480,), booking_units=("night", "day"),
        sort="distance", limit=5, offset=10,
    ))  # fmt: skip
    [body] = server.bodies("POST", "/indexes/listings/search")
    assert body == {
        "q": "loft",
        "offset": 10,
        "limit": 5,
        "filter": (
            'category = "st\\"ay\\\\" AND price_amount >= 1000 AND price_amount <= 20000 AND '
            'currency = "EUR" AND capacity >= 2 AND units >= 1 AND amenities = "wifi" AND '
            'amenities = "kitchen" AND booking_mode = "instant" AND '
            'booking_unit IN ["night", "day"] AND NOT blocked_nights IN [20270, 20271] AND '
            "NOT blocked_hours IN [486480] AND _geoRadius(38.72, -9.14, 2500) AND "
            "_geoBoundingBox([39.0, -9.0], [38.5, -9.5])"
        ),
        "sort": ["_geoPoint(38.72, -9.14):asc", "rating:desc", "created_at:desc", "id:asc"],
        "facets": ["category", "amenities", "price_amount"],
    }
    assert [h.document for h in result.hits] == [doc]
    assert result.hits[0].distance_km == 1.532
    assert result.total_estimate == 31
    assert result.facets == {"category": {"stay": 31}, "amenities": {"wifi": 31, "kitchen": 4}}
    assert result.price_stats == {"min": 1800, "max": 45000}


def test_explicit_sorts_are_total_and_relevance_sends_none(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    server.route("POST", "/indexes/listings/search", (200, {
        "hits": [], "query": "", "processingTimeMs": 0, "limit": 20, "offset": 0,
        "estimatedTotalHits": 0,
    }))  # fmt: skip
    for sort in ("relevance", "price_asc", "price_desc", "rating", "newest"):
        index.search(SearchQuery(sort=sort, facets=False))
    sorts = [b.get("sort") for b in server.bodies("POST", "/indexes/listings/search")]
    assert sorts == [
        None,
        ["price_amount:asc", "rating:desc", "created_at:desc", "id:asc"],
        ["price_amount:desc", "rating:desc", "created_at:desc", "id:asc"],
        ["rating:desc", "created_at:desc", "id:asc"],
        ["created_at:desc", "rating:desc", "id:asc"],
    ]
    assert all("facets" not in b for b in server.bodies("POST", "/indexes/listings/search"))


def test_distance_without_geo_sort_is_computed_like_meilisearch(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    doc = dict(CORPUS[0])
    server.route("POST", "/indexes/listings/search", (200, {
        "hits": [doc], "query": "", "processingTimeMs": 0, "limit": 20, "offset": 0,
        "estimatedTotalHits": 1,
    }))  # fmt: skip
    result = index.search(SearchQuery(lat=doc["_geo"]["lat"] + 0.01, lng=doc["_geo"]["lng"]))
    assert result.hits[0].distance_km == 1.112  # 0.01° of latitude on a 6371 km sphere


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_tenant_token_is_signed_by_an_existing_search_only_key(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    server.route("GET", "/keys", (200, {"results": [
        {"uid": "0b1d0d58-2e49-4b8c-9e1c-111111111111", "key": "admin", "name": "Default Admin",
         "description": None, "actions": ["*"], "indexes": ["*"], "expiresAt": None,
         "createdAt": AT, "updatedAt": AT},
        {"uid": KEY_UID, "key": "search-secret", "name": "Default Search API Key",
         "description": None, "actions": ["search"], "indexes": ["*"], "expiresAt": None,
         "createdAt": AT, "updatedAt": AT},
    ], "offset": 0, "limit": 1000, "total": 2}))  # fmt: skip
    expires = datetime.now(UTC) + timedelta(minutes=10)
    token = index.tenant_token(expires)
    assert _claims(token) == {
        "apiKeyUid": KEY_UID,
        "searchRules": {"listings": {"filter": "status = active"}},
        "exp": int(expires.timestamp()),
    }
    assert server.bodies("POST", "/keys") == []


def test_tenant_token_creates_a_search_only_key_when_none_fits(
    server: FakeServer, index: MeilisearchIndex
) -> None:
    server.route("GET", "/keys", (200, {"results": [], "offset": 0, "limit": 1000, "total": 0}))
    server.route("POST", "/keys", (201, {
        "uid": KEY_UID, "key": "new-search-secret", "name": "rentbook-search",
        "description": "x", "actions": ["search"], "indexes": ["listings"], "expiresAt": None,
        "createdAt": AT, "updatedAt": AT,
    }))  # fmt: skip
    token = index.tenant_token(datetime.now(UTC) + timedelta(minutes=5))
    [body] = server.bodies("POST", "/keys")
    assert body["actions"] == ["search"] and body["indexes"] == ["listings"]
    assert body["expiresAt"] is None
    assert _claims(token)["apiKeyUid"] == KEY_UID


def test_an_unreachable_server_is_a_search_index_error() -> None:
    index = MeilisearchIndex("http://127.0.0.1:9", "k", timeout_ms=500)
    with pytest.raises(SearchIndexError):
        index.search(SearchQuery(q="x"))


# --- live ------------------------------------------------------------------------------


@pytest.fixture
def live() -> Iterator[MeilisearchIndex]:
    url = os.environ.get("MEILISEARCH_URL")
    if not url:
        pytest.skip(LIVE_SKIP_REASON)
    uid = f"adapter_{uuid.uuid4().hex[:12]}"
    index = MeilisearchIndex(url, os.environ.get("MEILISEARCH_API_KEY"), uid)
    index.ensure_settings()
    yield index
    index._client.delete_index(uid)


@pytest.mark.meilisearch_live
def test_live_versions_and_failures(live: MeilisearchIndex) -> None:
    doc = dict(CORPUS[0])
    live.upsert([{**doc, "version": 2}])
    live.upsert([{**doc, "version": 1, "title": "stale"}])
    assert live.get(doc["id"]) == {**doc, "version": 2}
    with pytest.raises(SearchIndexError):
        live.upsert([{**dict(CORPUS[1]), "_geo": {"lat": "north", "lng": 0}}])
    live.delete([(doc["id"], 1)])
    assert live.get(doc["id"]) is not None
    live.delete([(doc["id"], 2)])
    assert live.get(doc["id"]) is None


@pytest.mark.meilisearch_live
def test_live_tenant_token_searches_active_listings(live: MeilisearchIndex) -> None:
    import meilisearch

    live.upsert([dict(d) for d in CORPUS[:3]])
    token = live.tenant_token(datetime.now(UTC) + timedelta(minutes=5))
    browser = meilisearch.Client(os.environ["MEILISEARCH_URL"], token)
    assert browser.index(live._index_uid).search("")["estimatedTotalHits"] == 3
