"""Group commit with members that conflict, on real SQLite and PostgreSQL stores.

A gate holds the first commit until every other placement has queued behind it, so they
all go into one group; meanwhile a second store (another API process) books the shared
listing, so the group's insert conflicts. The group falls back to its members one by one:
no booking is lost, nothing is overbooked, every loser gets `unavailable` (the 409), and
each winner's position names one of its own events.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from application.bookings import Bookings
from application.context import Actor
from application.group_commit import GroupCommitter
from application.store import EventStore
from domain.calendar import ListingCalendar
from domain.errors import RuleViolation, UnavailableError
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from tests.builders import NOW, make_world
from tests.polling import eventually

RACERS, DISTINCT = 3, 6
NIGHT = date(2026, 7, 1)
FEES = {"service_fee_bp": 1200, "commission_bp": 300}


class Gate:
    """The store's insert, except that the first call waits until `opened`."""

    def __init__(self, write: Callable[[Sequence[StoredEvent]], Any]) -> None:
        self.write = write
        self.opened = threading.Event()
        self.calls = 0

    def __call__(self, events: Sequence[StoredEvent]) -> Any:
        self.calls += 1
        if self.calls == 1:
            assert self.opened.wait(30), "the test never opened the gate"
        return self.write(events)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest) -> Settings:
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        found: Settings = request.getfixturevalue("pg_settings")
        return found
    found = request.getfixturevalue("sqlite_settings")
    return found


def _place(bookings: Bookings, listing_id: uuid.UUID, guests: int = 1) -> tuple[uuid.UUID, int]:
    return bookings.place(
        Actor(uuid.uuid4(), "user"),
        listing_id,
        start=NIGHT.isoformat(),
        end=(NIGHT + timedelta(days=2)).isoformat(),
        quantity=1,
        guests=guests,
        at=NOW,
    )


def test_a_conflicting_group_loses_no_booking_and_each_loser_gets_unavailable(
    settings: Settings,
) -> None:
    store: EventStore = build_event_store(settings)
    other: EventStore = build_event_store(settings)  # a second API process on the same store
    try:
        world = make_world(store)
        primer, shared = world.active_listing(), world.active_listing()
        distinct = [world.active_listing() for _ in range(DISTINCT)]
        gate = Gate(store.recorder.insert_events)
        committer = store.committer = GroupCommitter(gate)

        outcomes: dict[str, Any] = {}

        def run(name: str, listing_id: uuid.UUID, guests: int = 1) -> None:
            try:
                outcomes[name] = _place(world.bookings, listing_id, guests)
            except Exception as exc:
                outcomes[name] = exc

        jobs = [("primer", primer, 1)]
        jobs += [(f"racer{i}", shared, 1) for i in range(RACERS)]
        jobs += [(f"distinct{i}", listing, 1) for i, listing in enumerate(distinct)]
        jobs += [("too_many_guests", distinct[0], 99)]
        threads = [threading.Thread(target=run, args=job) for job in jobs]
        threads[0].start()
        eventually(lambda: gate.calls == 1, "the primer leading, at the gate", interval=0.005)
        for t in threads[1:]:
            t.start()
        eventually(
            lambda: committer.queued == RACERS + DISTINCT, "every placement queued", interval=0.005
        )
        # Another process books the shared listing: the queued racers' calendar is stale.
        first_id, _ = _place(Bookings(other, **FEES), shared)
        gate.opened.set()
        for t in threads:
            t.join(60)
    finally:
        other.close()

    assert committer.fallbacks >= 1  # the group conflicted and was saved one by one
    assert committer.members > committer.groups  # and placements did share commits
    assert isinstance(outcomes.pop("too_many_guests"), RuleViolation)
    for i in range(RACERS):
        assert isinstance(outcomes.pop(f"racer{i}"), UnavailableError)
    assert all(isinstance(o, tuple) for o in outcomes.values()), outcomes

    # No booking lost: every winner holds its units; nothing overbooked on the shared one.
    fresh = build_event_store(settings)
    try:
        shared_calendar: ListingCalendar = fresh.repository.get(ListingCalendar.create_id(shared))
        assert set(shared_calendar.allocations) == {str(first_id)}
        winners = dict(zip(["primer", *[f"distinct{i}" for i in range(DISTINCT)]],
                           [primer, *distinct], strict=True))  # fmt: skip
        positions = set()
        for name, listing_id in winners.items():
            booking_id, position = outcomes[name]
            calendar = fresh.repository.get(ListingCalendar.create_id(listing_id))
            assert calendar.allocation(booking_id) is not None
            # X-Rentbook-Position: the last event of this member's own save.
            (notification,) = fresh.recorder.select_notifications(position, 1)
            assert notification.id == position
            assert notification.originator_id in (booking_id, calendar.id)
            assert fresh.repository.get(booking_id).id == booking_id
            positions.add(position)
        assert len(positions) == len(winners)
    finally:
        fresh.close()
