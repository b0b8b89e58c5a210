"""A search the embedded PostgreSQL index cannot answer yet is a 503 to retry, never a 500."""

from __future__ import annotations

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import API, CHEAP_ARGON2, https_client, make_app


def test_a_search_before_the_index_exists_is_a_503_to_retry(
    pg_settings: Settings, clock: FakeClock
) -> None:
    # No index syncer in this process: its first pass is what creates the index tables.
    container = build_container(pg_settings, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2)
    container.runner.start()
    try:
        with https_client(make_app(container)) as client:
            r = client.get(f"{API}/search/listings", params={"q": "cabin"})
    finally:
        container.close()
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "search_unavailable" and r.headers["Retry-After"] == "1"
