"""Placements on cached state without a read (PostgreSQL): the group's transaction checks
what each member decided on. Two API workers' stores on one database: B acts on its cache;
A (another process) changes listings and calendars underneath. B's members that acted on
stale state are rejected from their group, retried on a fresh read and answered as a read
first would have answered them; the rest of the group commits."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from application.bookings import Bookings
from application.group_commit import GroupCommitter, StaleStreamsError
from application.store import EventStore
from domain.booking import Booking
from domain.booking_rules import resolve_period
from domain.calendar import ListingCalendar
from domain.errors import RuleViolation, UnavailableError
from infrastructure.eventstore import build_event_store
from tests.builders import NOW, World, make_world, place_night
from tests.integration.shared_stores import (  # noqa: F401 - the fixture
    pg_settings,
    two_pg_workers,
)

pytestmark = pytest.mark.postgres
FEES = {"service_fee_bp": 1200, "commission_bp": 300}
NIGHT = date(2026, 7, 10)


def counted_reads(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    real = store.recorder.select_streams  # type: ignore[attr-defined]

    def select_streams(*args: Any) -> Any:
        reads.append(1)
        return real(*args)

    monkeypatch.setattr(store.recorder, "select_streams", select_streams)
    return reads


def warm(world: World, bookings: Bookings, count: int) -> list[uuid.UUID]:
    """`count` active listings, each booked once through `bookings` (cached in its store)."""
    listing_ids = [world.active_listing() for _ in range(count)]
    for listing_id in listing_ids:
        place_night(bookings, listing_id, NIGHT - timedelta(days=5))
    return listing_ids


def test_a_warm_placement_reads_nothing_and_checks_its_listing_in_the_save(
    stores: tuple[EventStore, EventStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = stores
    assert b.acts_on_cache
    world = make_world(a)
    b_bookings = Bookings(b, **FEES)
    (listing_id,) = warm(world, b_bookings, 1)
    reads = counted_reads(b, monkeypatch)

    place_night(b_bookings, listing_id, NIGHT)
    assert reads == []

    world.listings.set_price(world.owner, listing_id, NIGHT + timedelta(days=1), 12_345, NOW)
    booking_id = place_night(b_bookings, listing_id, NIGHT + timedelta(days=1))
    assert reads == [1]  # rejected in the save (listing moved), then read and placed
    booking = a.repository.get(booking_id)
    assert isinstance(booking, Booking) and booking.quote["base_total"] == 12_345
    assert b.committer is not None and b.committer.stale_members == 1
    # Written elsewhere: B reads that listing first for a while rather than conflict again.
    place_night(b_bookings, listing_id, NIGHT + timedelta(days=2))
    assert reads == [1, 1] and b.committer.stale_members == 1


def test_the_checked_insert_names_what_moved_and_stores_nothing(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, _ = stores
    recorder: Any = a.recorder
    stream, fresh = uuid.uuid4(), uuid.uuid4()

    def ev(s: uuid.UUID, v: int) -> StoredEvent:
        return StoredEvent(originator_id=s, originator_version=v, topic="x", state=b"{}")

    ids = recorder.insert_events_checked([ev(stream, 1), ev(stream, 2)], [(stream, 0)])
    assert len(ids) == 2 and ids[0] < ids[1]
    with pytest.raises(StaleStreamsError) as stale:
        recorder.insert_events_checked([ev(fresh, 1)], [(fresh, 0), (stream, 1)])
    assert stale.value.stale == {(stream, 1)}
    assert list(recorder.select_events(fresh)) == []
    assert recorder.insert_events_checked([ev(fresh, 1)], [(fresh, 0), (stream, 2)])


class GatedChecks:
    """The store's checked insert, except that the first call waits until `opened`."""

    def __init__(self, write: Callable[..., Any]) -> None:
        self.write = write
        self.entered, self.opened = threading.Event(), threading.Event()
        self.calls = 0

    def __call__(self, events: Sequence[StoredEvent], checks: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.opened.wait(30), "the test never opened the gate"
        return self.write(events, checks)


def held_group(
    b: EventStore,
    bookings: Bookings,
    listing_ids: Sequence[uuid.UUID],
    meanwhile: Callable[[], None],
) -> dict[int, Any]:
    """Places NIGHT on listings 0-3 through worker B: member 0's group is held at the checked
    statement, members 1-3 queue as the next group, acting on B's cache; `meanwhile` runs
    (another worker's changes), then the gate opens. Each member's booking id or error."""
    gate = GatedChecks(b.recorder.insert_events_checked)  # type: ignore[attr-defined]
    b.committer = GroupCommitter(b.recorder.insert_events, checked_write=gate)
    outcomes: dict[int, Any] = {}

    def place(i: int) -> None:
        try:
            outcomes[i] = place_night(bookings, listing_ids[i], NIGHT)
        except Exception as exc:
            outcomes[i] = exc

    first = threading.Thread(target=place, args=(0,))  # held at the gate, alone
    first.start()
    assert gate.entered.wait(30)
    group = [threading.Thread(target=place, args=(i,)) for i in (1, 2, 3)]
    for t in group:
        t.start()
    while b.committer.queued < 3:
        threading.Event().wait(0.005)
    meanwhile()
    gate.opened.set()
    for t in (first, *group):
        t.join(30)
    return outcomes


def test_a_group_with_stale_members_rejects_them_and_commits_the_rest(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    world = make_world(a)
    b_bookings = Bookings(b, **FEES)
    listing_ids = warm(world, b_bookings, 4)
    taken: list[uuid.UUID] = []

    def meanwhile() -> None:  # another worker deactivates listing 1, takes listing 2's night
        world.listings.deactivate(world.owner, listing_ids[1], NOW)
        taken.append(place_night(world.bookings, listing_ids[2], NIGHT))

    outcomes = held_group(b, b_bookings, listing_ids, meanwhile)
    [a_booking] = taken

    assert isinstance(outcomes[0], uuid.UUID) and isinstance(outcomes[3], uuid.UUID)
    assert isinstance(outcomes[1], RuleViolation) and outcomes[1].code == "listing_not_active"
    assert isinstance(outcomes[2], UnavailableError)
    assert b.committer.stale_members == 2 and b.committer.fallbacks == 0
    for i, booking_id in ((0, outcomes[0]), (2, a_booking), (3, outcomes[3])):
        calendar = a.repository.get(ListingCalendar.create_id(listing_ids[i]))
        assert calendar.allocation(booking_id) is not None
        assert used_on_night(a, listing_ids[i]) == 1
    assert used_on_night(a, listing_ids[1]) == 0


def used_on_night(store: EventStore, listing_id: uuid.UUID) -> int:
    """Units of NIGHT in use, from the database."""
    listing = store.repository.get(listing_id)
    period = resolve_period(listing, NIGHT.isoformat(), (NIGHT + timedelta(days=1)).isoformat())
    calendar = store.repository.get(ListingCalendar.create_id(listing_id))
    used: int = calendar.used(period.keys[0], NOW)
    return used


def test_with_unread_placements_off_every_placement_reads_first(
    pg_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = build_event_store(pg_settings(pg_url, tmp_path, 2, unread_placements=False))
    try:
        assert not store.acts_on_cache
        world = make_world(store)
        bookings = Bookings(store, **FEES)
        (listing_id,) = warm(world, bookings, 1)
        reads = counted_reads(store, monkeypatch)
        place_night(bookings, listing_id, NIGHT)
        assert reads == [1]
    finally:
        store.close()
