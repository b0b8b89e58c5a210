"""The PostgreSQL trigger and the Python verifier hash the same bytes: for any topic
(any Unicode), any state bytes and any batch shape, a freshly written log verifies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from application.store import EventStore
from infrastructure.audit_log import verify_log
from infrastructure.event_log import open_event_log
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings

topics = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
batches = st.lists(st.tuples(topics, st.binary(max_size=300)), min_size=1, max_size=5)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EventStore, Settings]]:
    directory: Path = tmp_path_factory.mktemp("hash-agreement")
    if request.param == "sqlite":
        settings = Settings(environment="test", data_dir=directory)
        store = build_event_store(settings)
        yield store, settings
        store.close()
        return
    import psycopg

    from tests.conftest import PG_ADMIN_URL, _with_db

    name = f"rentbook_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    settings = Settings(
        environment="test", database_url=_with_db(PG_ADMIN_URL, name), data_dir=directory
    )
    store = build_event_store(settings)
    try:
        yield store, settings
    finally:
        store.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@given(streams=st.lists(batches, min_size=1, max_size=3))
def test_any_stored_events_verify(
    store_settings: tuple[EventStore, Settings], streams: list[list[tuple[str, bytes]]]
) -> None:
    store, settings = store_settings
    ids = [uuid.uuid4() for _ in streams]
    # One insert per batch, streams interleaved inside it, as a multi-aggregate save does.
    longest = max(len(b) for b in streams)
    batch = [
        StoredEvent(ids[s], version + 1, *streams[s][version])
        for version in range(longest)
        for s in range(len(streams))
        if version < len(streams[s])
    ]
    store.recorder.insert_events(batch)
    with open_event_log(settings) as log:
        report = verify_log(log)
    assert report.ok, report.broken
    assert report.events_checked == report.log_position
