"""For random command sequences, every view built incrementally (caught up after each step,
in small pages) equals the same view rebuilt from scratch, and the availability view agrees
with the calendar aggregate it mirrors."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from domain.calendar import ListingCalendar
from domain.errors import DomainError
from infrastructure.views_db import create_views_engine
from projections.availability_calendar import calendar_range
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, World, make_world

FIRST_DAY = date(2026, 6, 10)
DAYS = 8

listing_no = st.integers(0, 2)
booking_no = st.integers(0, 7)
offset = st.integers(0, DAYS - 2)
commands = st.one_of(
    st.tuples(st.just("place"), listing_no, offset, st.integers(1, 3), st.integers(1, 2)),
    st.tuples(st.just("approve"), booking_no),
    st.tuples(st.just("decline"), booking_no),
    st.tuples(st.just("cancel"), booking_no),
    st.tuples(st.just("expire"), booking_no),
    st.tuples(st.just("block"), listing_no, offset, st.integers(1, 2)),
)


def day(n: int) -> str:
    return (FIRST_DAY + timedelta(days=n)).isoformat()


def run(world: World, listings: list[UUID], placed: list[UUID], command: tuple[Any, ...]) -> None:
    name, *args = command
    w = world
    if name == "place":
        listing, start, length, quantity = args
        booking_id, _ = w.bookings.place(
            w.renter,
            listings[listing],
            start=day(start),
            end=day(start + length),
            quantity=quantity,
            guests=1,
            at=NOW,
        )
        placed.append(booking_id)
    elif name == "block":
        listing, start, length = args
        w.listings.add_block(w.owner, listings[listing], day(start), day(start + length), "", NOW)
    elif not placed:
        return
    else:
        booking_id = placed[args[0] % len(placed)]
        if name == "approve":
            w.bookings.approve(w.owner, booking_id, NOW)
        elif name == "decline":
            w.bookings.decline(w.owner, booking_id, "no", NOW)
        elif name == "cancel":
            w.bookings.cancel(w.renter, booking_id, "plans changed", NOW)
        else:
            w.bookings.expire(booking_id, NOW + timedelta(hours=25))


def snapshot(runner: ProjectionRunner, engine: Engine) -> dict[str, list[str]]:
    out = {}
    with engine.connect() as conn:
        for view in ("listings", "bookings", "availability", "deadlines", "audit"):
            for logical, table in runner.tables(view).items():
                rows = conn.execute(select(table)).all()
                out[f"{view}.{logical}"] = sorted(repr(tuple(r)) for r in rows)
    return out


@settings(max_examples=25, deadline=None)
@given(st.lists(commands, min_size=1, max_size=14))
def test_rebuilt_views_equal_incremental_views(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            check(steps, engine)
        finally:
            engine.dispose()


Snapshot = Callable[[ProjectionRunner, Engine], dict[str, list[str]]]


def check(steps: list[tuple[Any, ...]], engine: Engine, snap: Snapshot = snapshot) -> None:
    world = make_world()
    runner = ProjectionRunner(world.store, engine, all_projections(), batch_size=3)
    listings = [
        world.active_listing(quantity=2),
        world.active_listing(booking_mode="request"),
        world.active_listing(quantity=3, booking_mode="request"),
    ]
    placed: list[UUID] = []
    runner.catch_up()
    for command in steps:
        with contextlib.suppress(DomainError):  # refused commands are part of the story
            run(world, listings, placed, command)
        runner.catch_up()

    incremental = snap(runner, engine)
    for projection in all_projections():
        runner.rebuild(projection.name)
    assert snap(runner, engine) == incremental
    runner.rebuild_all()  # one pass over the log for every view
    assert snap(runner, engine) == incremental

    with engine.connect() as conn:
        for listing_id in listings:
            calendar: ListingCalendar = world.store.load(
                ListingCalendar.create_id(listing_id), "calendar"
            )
            rows = calendar_range(
                conn,
                runner.tables("availability"),
                listing_id,
                FIRST_DAY,
                FIRST_DAY + timedelta(days=DAYS),
                at=NOW,
            )
            for row in rows:
                key = date.fromisoformat(row["date"]).toordinal()
                assert row["available_units"] == calendar.free_units(key, NOW), row
