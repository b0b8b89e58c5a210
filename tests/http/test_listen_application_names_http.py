"""Every LISTEN connection a process keeps on PostgreSQL says who it is in pg_stat_activity
(`application_name`), for an operator counting the server's 100 connections: the projection
runner and the search syncer's wake-up (a served API), the live tail, an API worker's stream
notices."""

from __future__ import annotations

import psycopg
import pytest

from application.store import EventStore
from infrastructure.live_wiring import ListeningTailer, build_live
from infrastructure.stream_notices import stream_notice_listener
from tests.http.conftest import Api
from tests.integration.shared_stores import two_pg_workers  # noqa: F401 - the fixture
from tests.polling import eventually


def _listening(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT application_name, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN %%' ORDER BY 1"
        ).fetchall()
    return [(name, query) for name, query in rows]


def test_the_projections_and_the_search_wakeup_name_themselves(pg_api: Api) -> None:
    views = pg_api.container.views.url.set(drivername="postgresql")
    url = views.render_as_string(hide_password=False)
    eventually(lambda: len(_listening(url)) == 2, "not both LISTEN connections", timeout=10)
    assert _listening(url) == [
        ("rentbook projections", 'LISTEN "rentbook_events"'),
        ("rentbook search-wakeup", 'LISTEN "rentbook_search_documents"'),
    ]


@pytest.mark.postgres
def test_an_api_workers_stream_notices_name_themselves(
    stores: tuple[EventStore, EventStore], pg_url: str
) -> None:
    _, b = stores
    listener = stream_notice_listener(b)
    assert listener is not None
    listener.start()
    try:
        assert listener.connected.wait(10)
        names = [name for name, _ in _listening(pg_url)]
        assert names == ["rentbook stream-notices"]
    finally:
        listener.stop()


@pytest.mark.postgres
def test_the_live_tail_names_itself(stores: tuple[EventStore, EventStore], pg_url: str) -> None:
    tailer = build_live(stores[0])
    assert isinstance(tailer, ListeningTailer)
    tailer.start()
    try:
        eventually(lambda: len(_listening(pg_url)) == 1, "no LISTEN connection", timeout=10)
        assert [name for name, _ in _listening(pg_url)] == ["rentbook live"]
    finally:
        tailer.stop()
