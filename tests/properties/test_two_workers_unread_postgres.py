"""Two API workers' stores on one PostgreSQL database, each acting on its own aggregate
cache without reading first (the group's transaction checks what each placement decided
on), under random interleavings of placements, races, cancellations, deactivations and
repricings through either worker. Every answer is the one a read-first placement gives:
never overbooked, never a booking on an inactive listing or at a price no longer current,
and every accepted booking is in the database."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from application.bookings import Bookings
from application.context import Actor
from application.listings import Listings
from application.store import EventStore
from domain.booking import Booking
from domain.booking_rules import resolve_period
from domain.calendar import ListingCalendar
from domain.errors import RuleViolation, UnavailableError
from tests.builders import NOW, make_world, place_night
from tests.integration.shared_stores import two_pg_workers  # noqa: F401 - the fixture

pytestmark = pytest.mark.postgres
FEES = {"service_fee_bp": 1200, "commission_bp": 300}
LISTINGS, NIGHTS, BASE = 2, 3, 10_000
FIRST = date(2026, 8, 1)

workers = st.integers(0, 1)
listings = st.integers(0, LISTINGS - 1)
nights = st.integers(0, NIGHTS - 1)


def _place(bookings: Bookings, renter: Actor, listing_id: uuid.UUID, night: int) -> uuid.UUID:
    return place_night(bookings, listing_id, FIRST + timedelta(days=night), renter)


def _run(a: EventStore, b: EventStore) -> None:
    class TwoWorkers(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            world = make_world(a)
            self.owner = world.owner
            self.bookings = (Bookings(a, **FEES), Bookings(b, **FEES))
            self.listings = (world.listings, Listings(b, **FEES))
            self.ids = [world.active_listing() for _ in range(LISTINGS)]
            self.active = [True] * LISTINGS
            self.price: dict[tuple[int, int], int] = {}
            self.taken: dict[tuple[int, int], tuple[uuid.UUID, Actor]] = {}
            for via in (0, 1):  # both caches hold every listing and calendar
                for i in range(LISTINGS):
                    self.place(via, i, NIGHTS - 1)
                    self.cancel(via, i, NIGHTS - 1)

        def expected(self, i: int, night: int) -> type[Exception] | None:
            if not self.active[i]:
                return RuleViolation
            return UnavailableError if (i, night) in self.taken else None

        def accepted(self, i: int, night: int, booking_id: uuid.UUID, renter: Actor) -> None:
            booking = self.bookings[0].get(booking_id)
            assert isinstance(booking, Booking)
            assert booking.quote["base_total"] == self.price.get((i, night), BASE)
            self.taken[(i, night)] = (booking_id, renter)

        @rule(via=workers, i=listings, night=nights)
        def place(self, via: int, i: int, night: int) -> None:
            expected = self.expected(i, night)
            renter = Actor(uuid.uuid4(), "user")
            try:
                booking_id = _place(self.bookings[via], renter, self.ids[i], night)
            except (RuleViolation, UnavailableError) as refused:
                assert expected is not None and isinstance(refused, expected), refused
                return
            assert expected is None
            self.accepted(i, night, booking_id, renter)

        @rule(i=listings, night=nights)
        def race(self, i: int, night: int) -> None:
            """Both workers place the same night at once: one winner at most."""
            expected = self.expected(i, night)
            renters = [Actor(uuid.uuid4(), "user") for _ in (0, 1)]
            outcomes: list[Any] = [None, None]

            def go(via: int) -> None:
                try:
                    outcomes[via] = _place(self.bookings[via], renters[via], self.ids[i], night)
                except Exception as exc:
                    outcomes[via] = exc

            threads = [threading.Thread(target=go, args=(via,)) for via in (0, 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            won = [via for via in (0, 1) if isinstance(outcomes[via], uuid.UUID)]
            if expected is None:
                assert len(won) == 1, outcomes
                loser = outcomes[1 - won[0]]
                assert isinstance(loser, UnavailableError), loser
                self.accepted(i, night, outcomes[won[0]], renters[won[0]])
            else:
                assert not won and all(isinstance(o, expected) for o in outcomes), outcomes

        @rule(via=workers, i=listings, night=nights)
        def cancel(self, via: int, i: int, night: int) -> None:
            if (i, night) in self.taken:
                booking_id, renter = self.taken.pop((i, night))
                self.bookings[via].cancel(renter, booking_id, "plans changed", NOW)

        @rule(via=workers, i=listings)
        def toggle(self, via: int, i: int) -> None:
            change = (
                self.listings[via].deactivate if self.active[i] else self.listings[via].activate
            )
            change(self.owner, self.ids[i], NOW)
            self.active[i] = not self.active[i]

        @rule(via=workers, i=listings, night=nights, amount=st.integers(5_000, 20_000))
        def reprice(self, via: int, i: int, night: int, amount: int) -> None:
            day = FIRST + timedelta(days=night)
            self.listings[via].set_price(self.owner, self.ids[i], day, amount, NOW)
            self.price[(i, night)] = amount

        @invariant()
        def the_database_holds_exactly_the_accepted_bookings(self) -> None:
            for i, listing_id in enumerate(self.ids):
                listing = a.repository.get(listing_id)
                calendar = a.repository.get(ListingCalendar.create_id(listing_id))
                for night in range(NIGHTS):
                    start = FIRST + timedelta(days=night)
                    period = resolve_period(
                        listing, start.isoformat(), (start + timedelta(days=1)).isoformat()
                    )
                    held = calendar.used(period.keys[0], NOW)
                    assert held == (1 if (i, night) in self.taken else 0)
                    if (i, night) in self.taken:
                        assert calendar.allocation(self.taken[(i, night)][0]) is not None

    run_state_machine_as_test(
        TwoWorkers,
        settings=settings(
            max_examples=8,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_two_workers_acting_on_their_caches_never_overbook_nor_book_what_changed(
    stores: tuple[EventStore, EventStore],
) -> None:
    a, b = stores
    assert a.acts_on_cache and b.acts_on_cache
    _run(a, b)
    assert a.committer is not None and b.committer is not None
    assert a.committer.stale_members + b.committer.stale_members > 0  # the path was taken
