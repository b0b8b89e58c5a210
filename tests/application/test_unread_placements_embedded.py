"""SQLite and the in-memory store read every placement's listing and calendar first, as before
unread placements (tasks K, K2): their recorders have no checked insert, so no placement acts
on the aggregate cache unread, their commits name no streams and no listener is built."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from application.bookings import Bookings
from application.store import EventStore
from domain.calendar import ListingCalendar
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from infrastructure.stream_notices import stream_notice_listener
from tests.builders import make_world, place_night

FEES = {"service_fee_bp": 1200, "commission_bp": 300}
NIGHT = date(2026, 7, 10)


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "sqlite":
        built = build_event_store(Settings(environment="test", data_dir=tmp_path))
    else:
        built = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, cache_size=100)
    try:
        yield built
    finally:
        built.close()


def test_every_placement_reads_first_and_no_notices(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store.aggregate_cache is not None and store.committer is not None
    assert not store.acts_on_cache and store.committer.checked_write is None
    assert getattr(store.recorder, "stream_notices", None) is None
    assert stream_notice_listener(store) is None
    world = make_world(store)
    bookings = Bookings(store, **FEES)
    listing_id = world.active_listing()
    place_night(bookings, listing_id, NIGHT - timedelta(days=1))  # cached now
    calendar_id = ListingCalendar.create_id(listing_id)
    assert store.aggregate_cache.version(calendar_id) > 0
    assert store.load_cached(listing_id, calendar_id) is None
    loads: list[Any] = []
    real = store.load_all

    def load_all(*wanted: Any, **kw: Any) -> Any:
        loads.append(wanted)
        return real(*wanted, **kw)

    monkeypatch.setattr(store, "load_all", load_all)
    for day in range(3):
        place_night(bookings, listing_id, NIGHT + timedelta(days=day))
    assert len(loads) == 3  # one read of listing and calendar per placement
    assert store.committer.stale_members == 0
