"""Check-ins and check-outs through the use cases, with the scheduler reading the deadlines
view: for any sequence, the bookings and deadlines views built incrementally equal the views
rebuilt from scratch, the deadlines view always names the aggregate's own pending deadline at
its current version, and no booking is ever stuck (the scheduler completes every stay)."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from application.context import Actor
from application.scheduler import Scheduler
from application.stays import Stays
from domain import booking as b
from domain.booking import Booking
from domain.errors import DomainError
from infrastructure.views_db import create_views_engine
from projections.deadlines import PENDING, ViewDeadlineSource
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, make_world

VIEWS = ("bookings", "deadlines")
ITEMS = [{"name": "Bike", "status": "ok", "note": "", "photo_ids": []}]
steps = st.lists(
    st.tuples(
        st.sampled_from(["check_in", "check_out", "tick"]),
        st.sampled_from(["renter", "owner"]),
        st.integers(0, 30),  # hours the clock moves first
        st.booleans(),  # with a report
    ),
    min_size=1,
    max_size=10,
)


def snapshot(runner: ProjectionRunner, engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {
            name: sorted(repr(tuple(r)) for r in conn.execute(select(runner.tables(name)[name])))
            for name in VIEWS
        }


@settings(max_examples=20, deadline=None)
@given(steps)
def test_stay_views_rebuild_equal_and_no_booking_is_stuck(plan: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            check(plan, engine)
        finally:
            engine.dispose()


def check(plan: list[Any], engine: Engine) -> None:
    w = make_world()
    runner = ProjectionRunner(w.store, engine, all_projections(), batch_size=3)
    stays = Stays(w.store, w.bookings)
    scheduler = Scheduler(w.bookings, ViewDeadlineSource(engine, runner.tables("deadlines")))
    listing = w.active_listing(booking_unit="day", check_in_grace_hours=12)
    booking_id, _ = w.bookings.place(
        w.renter, listing, start="2026-06-10", end="2026-06-12", quantity=1, guests=1, at=NOW
    )
    placed: Booking = w.bookings.get(booking_id)
    placed.confirm(Actor.system().id, NOW)
    w.store.record(placed)
    at: datetime = placed.start_at - timedelta(hours=20)
    runner.catch_up()
    for action, side, hours, with_report in plan:
        at += timedelta(hours=hours)
        actor = w.renter if side == "renter" else w.owner
        with contextlib.suppress(DomainError):
            if action == "check_in":
                stays.check_in(actor, booking_id, ITEMS if with_report else None, at)
            elif action == "check_out":
                stays.check_out(actor, booking_id, ITEMS if with_report else None, at)
            else:
                scheduler.run_due(at)
        runner.catch_up()
        assert_view_follows_the_aggregate(w.bookings.get(booking_id), runner, engine)

    incremental = snapshot(runner, engine)
    for name in VIEWS:
        runner.rebuild(name)
    assert snapshot(runner, engine) == incremental

    later = at
    for _ in range(4):  # start, end, complete: one step per run, each due after the last
        later += timedelta(days=3)
        scheduler.run_due(later)
        runner.catch_up()
    assert w.bookings.get(booking_id).status == b.COMPLETED


def assert_view_follows_the_aggregate(
    booking: Booking, runner: ProjectionRunner, engine: Engine
) -> None:
    table = runner.tables("deadlines")["deadlines"]
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.booking_id == booking.id)).mappings().one()
    assert row["booking_version"] == booking.version and row["status"] == booking.status
    kind, field = PENDING.get(booking.status, (None, None))
    assert row["kind"] == kind
    due = booking.deadline(field) if field else None
    assert (row["due_at"] is None) == (due is None)
    if due is not None:
        assert row["due_at"].replace(tzinfo=due.tzinfo) == due
