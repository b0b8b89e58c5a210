"""Read-your-writes for search over HTTP: `X-Rentbook-Min-Position` waits for the search
index, not only the views, on SQLite and PostgreSQL; 503 when the index does not get there."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC

import pytest

from application.search_sync import IndexSyncer
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from projections.search_documents import ViewSearchDocuments
from tests.builders import listing_spec
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import API, CHEAP_ARGON2, Api, Auth, https_client, make_app

SEARCH = f"{API}/search/listings"


def approve_new_listing(api: Api, owner: Auth, admin: Auth, word: str) -> str:
    """Creates, submits and approves a listing over HTTP; returns the approval's position."""
    body = listing_spec(title=f"Harbour {word} cabin", description=f"Quiet {word} by the sea")
    r = api.client.post(f"{API}/listings", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    listing_id = r.json()["id"]
    r = api.client.post(f"{API}/listings/{listing_id}/submit", headers=owner.headers)
    assert r.status_code == 200, r.text
    r = api.client.post(f"{API}/admin/listings/{listing_id}/approve", headers=admin.headers)
    assert r.status_code == 200, r.text
    return r.headers["X-Rentbook-Position"]


def unique_word() -> str:
    return "w" + uuid.uuid4().hex[:10]


@pytest.mark.parametrize("backend", ["api", "pg_api"])
def test_a_search_with_the_approvals_position_finds_the_new_listing_every_time(
    backend: str, request: pytest.FixtureRequest
) -> None:
    api: Api = request.getfixturevalue(backend)
    owner, admin = api.new_user(), api.admin()
    for _ in range(5):
        word = unique_word()
        position = approve_new_listing(api, owner, admin, word)
        r = api.client.get(
            SEARCH, params={"q": word}, headers={"X-Rentbook-Min-Position": position}
        )
        assert r.status_code == 200, r.text
        assert [hit["title"] for hit in r.json()["data"]] == [f"Harbour {word} cabin"]


@pytest.fixture
def views_only(sqlite_settings: Settings, clock: FakeClock) -> Iterator[Api]:
    """The app with its projections running but no index syncer in this process."""
    container: Container = build_container(
        sqlite_settings, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2
    )
    container.runner.start()
    try:
        with https_client(make_app(container)) as client:
            yield Api(client, container, clock)
    finally:
        container.close()


def test_the_index_not_reaching_the_position_is_a_503_then_another_process_syncs_it(
    views_only: Api,
) -> None:
    api = views_only
    api.app.state.min_position_timeout = 0.3
    word = unique_word()
    position = approve_new_listing(api, api.new_user(), api.admin(), word)
    wait = {"X-Rentbook-Min-Position": position}
    # The views catch up first (a loaded machine may need longer than the 0.3 s below), so
    # the only thing left behind is the index, which no process here syncs.
    assert api.container.runner.wait_for(int(position), None, 60)

    r = api.client.get(SEARCH, params={"q": word}, headers=wait)
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "1"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("search_index_behind")

    # A syncer elsewhere (`rentbook project`) on the same databases catches the index up.
    container = api.container
    assert container.search is not None
    source = ViewSearchDocuments(container.views, container.runner.tables("search_documents"))
    syncer = IndexSyncer(source, container.search)
    syncer.index.ensure_settings()
    syncer.sync_once(api.clock.now().astimezone(UTC).date())

    r = api.client.get(SEARCH, params={"q": word}, headers=wait)
    assert r.status_code == 200, r.text
    assert [hit["title"] for hit in r.json()["data"]] == [f"Harbour {word} cabin"]
