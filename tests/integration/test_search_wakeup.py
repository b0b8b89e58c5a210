"""The index syncer is woken by the search documents view moving, not by its poll: by the
runner's page hook in the same process, and by LISTEN/NOTIFY across processes on
PostgreSQL. Its fallback poll is set to a minute here, so only a wake-up can pass."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from application.context import Actor, command_context
from infrastructure.bootstrap import Container, build_container
from infrastructure.settings import Settings
from tests.builders import listing_spec, verified_user
from tests.http.conftest import CHEAP_ARGON2

SLOW_POLL = 60.0


def approve_listing(container: Container) -> tuple[str, int]:
    owner = Actor(verified_user(container.store), "user")
    admin = Actor(uuid.uuid4(), "admin")
    now = datetime.now(UTC)
    with command_context(owner):
        listing_id, _ = container.listings.create(owner, listing_spec(), now)
        container.listings.submit(owner, listing_id, now)
    with command_context(admin):
        position = container.listings.approve(admin, listing_id, now)
    return str(listing_id), position


@pytest.fixture
def containers() -> Iterator[list[Container]]:
    made: list[Container] = []
    yield made
    for container in made:
        container.close()


def started(
    containers: list[Container], settings: Settings, *, runner: bool, syncer: bool
) -> Container:
    container = build_container(settings, **CHEAP_ARGON2)
    containers.append(container)
    if runner:
        container.runner.start()
    if syncer:
        container.start_search_sync(fallback_poll=SLOW_POLL)
        assert container.search_syncer is not None
        time.sleep(0.5)  # settings applied and the first pass done
    return container


def test_the_runners_page_wakes_the_syncer_in_the_same_process(
    sqlite_settings: Settings, containers: list[Container]
) -> None:
    container = started(containers, sqlite_settings, runner=True, syncer=True)
    assert container.search_syncer is not None and container.search is not None
    for _ in range(3):
        listing_id, position = approve_listing(container)
        assert container.search_syncer.applied.wait_for(position, timeout=5)
        assert container.search.get(listing_id) is not None


@pytest.mark.postgres
def test_a_page_committed_in_another_process_wakes_the_syncer_by_notify(
    pg_settings: Settings, containers: list[Container]
) -> None:
    writer = started(containers, pg_settings, runner=True, syncer=False)  # `rentbook serve`
    indexer = started(containers, pg_settings, runner=False, syncer=True)  # its own process
    assert indexer.search_syncer is not None and indexer.search is not None
    for _ in range(3):
        listing_id, position = approve_listing(writer)
        t0 = time.monotonic()
        assert indexer.search_syncer.applied.wait_for(position, timeout=5)
        assert time.monotonic() - t0 < 5 < SLOW_POLL
        assert indexer.search.get(listing_id) is not None


def test_close_stops_a_waiting_syncer_at_once(
    sqlite_settings: Settings, containers: list[Container]
) -> None:
    container = started(containers, sqlite_settings, runner=False, syncer=True)
    containers.remove(container)
    t0 = time.monotonic()
    container.close()
    assert time.monotonic() - t0 < 3
    assert not any(t.is_alive() for t in container._threads)


@pytest.mark.postgres
def test_an_api_process_hears_the_index_applied_a_position_by_notify(
    pg_settings: Settings, containers: list[Container]
) -> None:
    api = started(containers, pg_settings, runner=True, syncer=False)  # `serve --no-workers`
    indexer = started(containers, pg_settings, runner=False, syncer=True)  # `rentbook project`
    assert api.search_syncer is not None
    applied = api.search_syncer.applied
    applied._poll = SLOW_POLL  # only an announcement can wake the waiter in time
    applied.wait_for(0, timeout=0)  # the first wait subscribes
    time.sleep(0.3)  # LISTEN is in place
    for _ in range(3):
        _, position = approve_listing(api)
        t0 = time.monotonic()
        assert applied.wait_for(position, timeout=5)
        assert time.monotonic() - t0 < 5 < SLOW_POLL
    assert indexer.search_syncer is not None
    assert indexer.search_syncer.applied.value >= applied.value
