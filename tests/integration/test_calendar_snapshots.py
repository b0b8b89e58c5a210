"""Busy calendars load from snapshots, and a snapshot gives exactly the replayed state."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.calendar import ListingCalendar
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from tests.builders import make_world, place_night


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_snapshotted_calendar_equals_its_full_replay(backend: str, request, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if backend == "postgres":
        settings = Settings(
            environment="test",
            database_url=request.getfixturevalue("pg_url"),
            postgres_pool_size=2,
            postgres_max_overflow=2,
        )
    else:
        settings = Settings(environment="test", data_dir=tmp_path)
    store = build_event_store(settings)
    world = make_world(store)
    listing_id = world.active_listing()
    first = date(2026, 7, 1)
    for i in range(60):  # 60 holds → at least one snapshot (interval 50)
        place_night(world.bookings, listing_id, first + timedelta(days=i))
    calendar_id = ListingCalendar.create_id(listing_id)
    assert store.snapshots is not None
    assert list(store.snapshots.get(calendar_id)), "no snapshot was taken"

    fresh = build_event_store(settings)
    from_snapshot = fresh.repository.get(calendar_id)
    replayed = None
    for event in fresh.events.get(calendar_id):
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert from_snapshot.version == replayed.version == 61
    assert from_snapshot.allocations == replayed.allocations
    assert from_snapshot.by_key == replayed.by_key
    assert len(from_snapshot.allocations) == 60
    fresh.close()
    store.close()
