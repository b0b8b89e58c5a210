"""Whatever holds, confirmations, cancellations, expiries, blocks and unit changes happen,
allocations never exceed the units on any night or slot."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from domain.errors import DomainError
from tests.builders import listing_calendar

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HORIZON = 20


class CalendarMachine(RuleBasedStateMachine):
    bookings = Bundle("bookings")

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.calendar = listing_calendar(unit="hour", units=2, at=T0)
        self.history: list[Any] = list(self.calendar.collect_events())

    @rule(
        target=bookings,
        start=st.integers(0, HORIZON - 1),
        length=st.integers(1, 5),
        quantity=st.integers(1, 3),
        ttl=st.integers(1, 30),
    )
    def hold(self, start: int, length: int, quantity: int, ttl: int) -> uuid.UUID:
        booking_id = uuid.uuid4()
        keys = list(range(start, min(start + length, HORIZON)))
        with contextlib.suppress(DomainError):
            self.calendar.place_hold(
                booking_id, keys, quantity, self.now + timedelta(minutes=ttl), self.now
            )
        return booking_id

    @rule(booking_id=bookings)
    def confirm(self, booking_id: uuid.UUID) -> None:
        with contextlib.suppress(DomainError):
            self.calendar.confirm(booking_id, self.now)

    @rule(booking_id=bookings)
    def release(self, booking_id: uuid.UUID) -> None:
        self.calendar.release(booking_id, "cancelled", self.now)

    @rule(minutes=st.integers(1, 20))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(start=st.integers(0, HORIZON - 1), length=st.integers(1, 4))
    def block(self, start: int, length: int) -> None:
        with contextlib.suppress(DomainError):
            self.calendar.add_block(uuid.uuid4(), list(range(start, start + length)), "x", self.now)

    @rule()
    def unblock_one(self) -> None:
        if self.calendar.blocks:
            block_id = uuid.UUID(next(iter(self.calendar.blocks)))
            self.calendar.remove_block(block_id, self.now)

    @rule(units=st.integers(1, 4))
    def change_units(self, units: int) -> None:
        with contextlib.suppress(DomainError):
            self.calendar.change_units(units, self.now)

    @rule(buffer=st.integers(0, 2))
    def change_buffer(self, buffer: int) -> None:
        self.calendar.change_rules(buffer, {}, self.now)

    @invariant()
    def never_more_allocated_than_units(self) -> None:
        cal = self.calendar
        for key in range(-5, HORIZON + 5):
            live = sum(
                a["quantity"]
                for a in cal.allocations.values()
                if cal.is_live(a, self.now) and key in cal.occupied_keys(a["keys"], a["buffer"])
            )
            assert live <= cal.units, (key, live, cal.units)

    @invariant()
    def no_live_allocation_on_a_blocked_key(self) -> None:
        cal = self.calendar
        blocked = cal.blocked_keys()
        for a in cal.allocations.values():
            if cal.is_live(a, self.now):
                assert not set(a["keys"]) & blocked

    @invariant()
    def replay_gives_the_same_state(self) -> None:
        events = list(self.calendar.collect_events())
        rebuilt = None
        for event in self.history + events:
            rebuilt = event.mutate(rebuilt)
        self.history.extend(events)
        assert rebuilt is not None
        assert rebuilt.allocations == self.calendar.allocations
        assert rebuilt.blocks == self.calendar.blocks
        assert rebuilt.units == self.calendar.units


TestCalendarInvariants = CalendarMachine.TestCase
