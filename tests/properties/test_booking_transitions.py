"""Only the transitions of the lifecycle table succeed; every other command is refused and
records nothing."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.booking import TRANSITIONS, Booking
from domain.errors import InvalidTransition

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LATE = T0 + timedelta(days=400)
OWNER, RENTER, ADMIN = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

COMMANDS: dict[str, Callable[[Booking], None]] = {
    "approve": lambda b: b.approve(OWNER, T0, payment_expires_at=T0 + timedelta(minutes=15)),
    "decline": lambda b: b.decline(OWNER, "busy", T0),
    "expire": lambda b: b.expire(ADMIN, LATE),
    "fail_payment": lambda b: b.fail_payment("declined", T0, by=ADMIN),
    "confirm": lambda b: b.confirm(ADMIN, T0),
    "start": lambda b: b.begin(ADMIN, LATE),
    "end": lambda b: b.finish(ADMIN, LATE),
    "complete": lambda b: b.complete(OWNER, "owner", LATE),
    "settle": lambda b: b.settle(ADMIN, LATE),
    "cancel": lambda b: b.cancel(
        RENTER, "renter", "changed plans", {"amount": 0, "currency": "EUR"}, T0
    ),
    "mark_refunded": lambda b: b.mark_refunded(ADMIN, T0),
    "open_dispute": lambda b: b.open_dispute(RENTER, "renter", "damaged", LATE),
    "resolve_dispute": lambda b: b.resolve_dispute(ADMIN, "settled", LATE),
}


def new_booking(instant: bool) -> Booking:
    return Booking.place(
        instant=instant,
        expires_at=T0 + timedelta(minutes=15),
        id=uuid.uuid4(),
        listing_id=uuid.uuid4(),
        owner_id=OWNER,
        renter_id=RENTER,
        unit="night",
        start="2026-02-01",
        end="2026-02-03",
        timezone="Europe/Paris",
        quantity=1,
        guests=1,
        message="",
        quote={"total": 100, "currency": "EUR"},
        policy={"name": "flexible", "schedule": []},
        deposit=None,
        start_at=T0 + timedelta(days=31),
        end_at=T0 + timedelta(days=33),
        by=RENTER,
        role="renter",
        at=T0,
    )


@given(instant=st.booleans(), commands=st.lists(st.sampled_from(sorted(COMMANDS)), max_size=25))
def test_only_legal_booking_transitions_succeed(instant: bool, commands: list[str]) -> None:
    booking = new_booking(instant)
    for name in commands:
        sources, target = TRANSITIONS[name]
        before, version = booking.status, booking.version
        try:
            COMMANDS[name](booking)
        except InvalidTransition:
            assert before not in sources
            assert (booking.status, booking.version) == (before, version)
        else:
            assert before in sources
            assert booking.status == target
            assert booking.version == version + 1


@given(commands=st.lists(st.sampled_from(sorted(COMMANDS)), max_size=25))
def test_replaying_a_bookings_events_gives_the_same_state(commands: list[str]) -> None:
    booking = new_booking(True)
    for name in commands:
        with contextlib.suppress(InvalidTransition):
            COMMANDS[name](booking)
    replayed = None
    for event in booking.collect_events():
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert vars(replayed) | {"_pending_events": []} == vars(booking) | {"_pending_events": []}
