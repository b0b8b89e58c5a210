"""The scheduler acts on deadlines read from the deadlines view, idempotently."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError
from sqlalchemy import Engine

from application.scheduler import Scheduler
from domain.deadlines import Deadline, DeadlineSource
from infrastructure.views_db import create_views_engine
from projections.deadlines import DeadlinesView, ViewDeadlineSource
from projections.runner import ProjectionRunner
from tests.builders import NOW, World, make_world
from tests.fakes import FakeClock


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


def unpaid_booking(world: World) -> UUID:
    listing_id = world.active_listing()
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-10", end="2026-06-12", quantity=1, guests=1, at=NOW
    )
    return booking_id


def test_unpaid_booking_expires_once_at_fifteen_minutes(engine: Engine) -> None:
    world = make_world()
    runner = ProjectionRunner(world.store, engine, [DeadlinesView()])
    scheduler = Scheduler(world.bookings, ViewDeadlineSource(engine, runner.tables("deadlines")))
    booking_id = unpaid_booking(world)
    runner.catch_up()

    assert scheduler.run_due(NOW + timedelta(minutes=14, seconds=59)) == 0
    assert world.bookings.get(booking_id).status == "pending_payment"

    at = NOW + timedelta(minutes=15)
    assert scheduler.run_due(at) == 1
    assert scheduler.run_due(at) == 0  # the view still lags: the version guard makes it a no-op
    runner.catch_up()
    assert scheduler.run_due(at + timedelta(minutes=1)) == 0

    booking = world.bookings.get(booking_id)
    assert booking.status == "cancelled" and booking.version == 2
    calendar = world.bookings.calendar(booking.listing_id)
    assert calendar.allocation(booking.id) is None


class StaleSource(DeadlineSource):
    """Hands out a deadline read before the booking moved on."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def due(self, at: datetime, limit: int) -> list[Deadline]:
        return [self.deadline]


def test_a_deadline_of_a_booking_that_moved_is_skipped() -> None:
    world = make_world()
    booking_id = unpaid_booking(world)
    world.bookings.cancel(world.renter, booking_id, "changed plans", NOW)
    stale = Deadline(booking_id, "expire", NOW + timedelta(minutes=15), 1)
    # Also a wrong-kind deadline at the current version: refused by the aggregate, swallowed.
    wrong = Deadline(booking_id, "complete", NOW, 2)

    for deadline in (stale, wrong):
        assert (
            Scheduler(world.bookings, StaleSource(deadline)).run_due(NOW + timedelta(hours=1)) == 0
        )


def test_run_forever_runs_until_stopped(engine: Engine) -> None:
    world = make_world()
    runner = ProjectionRunner(world.store, engine, [DeadlinesView()])
    booking_id = unpaid_booking(world)
    runner.catch_up()
    clock = FakeClock(NOW + timedelta(minutes=20))
    stop = threading.Event()
    scheduler = Scheduler(world.bookings, ViewDeadlineSource(engine, runner.tables("deadlines")))

    thread = threading.Thread(target=scheduler.run_forever, args=(clock, stop, 0.01))
    thread.start()
    try:
        for _ in range(200):
            if world.bookings.get(booking_id).status == "cancelled":
                break
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join(2)
    assert not thread.is_alive()
    assert world.bookings.get(booking_id).status == "cancelled"


def test_a_deadline_another_scheduler_recorded_at_the_same_moment_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world()
    booking_id = unpaid_booking(world)

    class OneDue(DeadlineSource):
        def due(self, at: datetime, limit: int) -> list[Deadline]:
            return [Deadline(booking_id, "expire", NOW + timedelta(minutes=15), 1)]

    def lose_the_race(*args: object, **kwargs: object) -> int:
        raise IntegrityError("the other scheduler's event took this version")

    monkeypatch.setattr(world.bookings, "expire", lose_the_race)
    assert Scheduler(world.bookings, OneDue()).run_due(NOW + timedelta(minutes=16)) == 0
