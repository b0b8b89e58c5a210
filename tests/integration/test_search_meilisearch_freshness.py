"""Read-your-writes on Meilisearch: the syncer records the view position it pushed only once
the task that carried it has succeeded (recorded Meilisearch answers, as in
test_search_meilisearch_adapter.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from application.search import SearchIndexError
from application.search_sync import Horizon, IndexSyncer, SearchDocumentSource, SyncState
from infrastructure.search_meilisearch import MeilisearchIndex
from tests.integration.test_search_meilisearch_adapter import FakeServer, task, task_info

TODAY = date(2025, 7, 1)
VIEW_POSITION = 42  # the view has processed the log up to here; the row changed at 40


def row(position: int) -> dict[str, Any]:
    return {
        "id": UUID("7b0f3c1e-3f5a-4c1e-9d7a-2a1c0f9e8d01"), "version": 3,
        "position": position, "status": "active", "deleted": False, "title": "Harbour cabin",
        "description": "Quiet", "category": "stay", "category_data": {}, "city": "Lisbon",
        "country": "PT", "lat": 38.72, "lng": -9.14, "price_amount": 9500, "currency": "EUR",
        "capacity": 2, "units": 1, "amenities": ["wifi"], "booking_mode": "instant",
        "booking_unit": "night", "rating": 0.0, "review_count": 0,
        "created_at": "2025-06-01T00:00:00Z", "blocked_keys": [],
    }  # fmt: skip


class OneRowSource(SearchDocumentSource):
    generation = "search_documents:v1"

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.rows = [row(40)]
        self.saved: list[tuple[SyncState, int]] = []  # and how many requests had been made

    def view_position(self) -> int | None:
        return VIEW_POSITION

    def head(self) -> int:
        return self.rows[-1]["position"]

    def changed_since(self, position: int, limit: int, horizon: Horizon) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["position"] > position][:limit]

    def all_rows(self, after_id: UUID | None, limit: int, horizon: Horizon) -> list[dict[str, Any]]:
        return [r for r in self.rows if after_id is None or r["id"] > after_id][:limit]

    def load_state(self, name: str) -> SyncState | None:
        return self.saved[-1][0] if self.saved else None

    def save_state(self, name: str, state: SyncState) -> None:
        self.saved.append((state, len(self.server.requests)))


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def syncer_on(server: FakeServer) -> tuple[IndexSyncer, OneRowSource]:
    source = OneRowSource(server)
    index = MeilisearchIndex(server.url, "master-key", timeout_ms=2000)
    syncer = IndexSyncer(source, index)
    # Already in step with this view's generation, at nothing pushed yet.
    source.saved.append((SyncState(0, syncer.generation, TODAY), 0))
    return syncer, source


def no_stored_versions(server: FakeServer) -> None:
    server.route("POST", "/indexes/listings/documents/fetch",
                 (200, {"results": [], "offset": 0, "limit": 1, "total": 0}))  # fmt: skip
    server.route(
        "POST", "/indexes/listings/documents", (202, task_info(11, "documentAdditionOrUpdate"))
    )


def test_the_position_is_recorded_after_the_task_succeeded(server: FakeServer) -> None:
    no_stored_versions(server)
    server.route(
        "GET",
        "/tasks/11",
        (200, task(11, "documentAdditionOrUpdate", "enqueued")),
        (200, task(11, "documentAdditionOrUpdate", "processing")),
        (200, task(11, "documentAdditionOrUpdate", "succeeded")),
    )
    syncer, source = syncer_on(server)

    assert syncer.sync_once(TODAY) == 1

    state, requests_before_save = source.saved[-1]
    assert (state.position, state.applied) == (40, VIEW_POSITION)
    polls = [i for i, (m, p, _) in enumerate(server.requests) if p == "/tasks/11"]
    assert len(polls) == 3 and polls[-1] < requests_before_save  # saved after "succeeded"
    assert syncer.applied.value == VIEW_POSITION
    assert syncer.applied.wait_for(VIEW_POSITION, timeout=0)


def test_a_failed_task_records_nothing_and_readers_time_out(server: FakeServer) -> None:
    no_stored_versions(server)
    server.route("GET", "/tasks/11", (200, task(11, "documentAdditionOrUpdate", "failed", {
        "message": "Index `listings` not found.", "code": "index_not_found",
        "type": "invalid_request", "link": "https://docs.meilisearch.com/errors#index_not_found",
    })))  # fmt: skip
    syncer, source = syncer_on(server)

    with pytest.raises(SearchIndexError, match="not found"):
        syncer.sync_once(TODAY)

    assert len(source.saved) == 1  # only the state the test started from
    assert syncer.applied.value == 0
    assert not syncer.applied.wait_for(VIEW_POSITION, timeout=0.1)


def test_an_idle_pass_records_the_view_position_without_writing_to_meilisearch(
    server: FakeServer,
) -> None:
    syncer, source = syncer_on(server)
    source.saved.append((SyncState(40, syncer.generation, TODAY, 40), 0))

    assert syncer.sync_once(TODAY) == 0

    assert source.saved[-1][0].applied == VIEW_POSITION
    assert server.requests == []
