"""The read models, fed with real events from the use cases (in-memory store, SQLite views)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from application.context import Actor, command_context
from infrastructure.views_db import create_views_engine
from projections import audit, availability_calendar, bookings, deadlines, listings
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, World, listing_spec, make_world

OPEN_ALL_DAY = {d: [["08:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def runner(world: World, engine: Engine) -> ProjectionRunner:
    return ProjectionRunner(world.store, engine, all_projections(), batch_size=7)


def query(
    runner: ProjectionRunner, engine: Engine, fn: Any, view: str, *args: Any, **kw: Any
) -> Any:
    runner.catch_up()
    with engine.connect() as conn:
        return fn(conn, runner.tables(view), *args, **kw)


def by_date(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["date"]: r for r in rows}


# -- listings ------------------------------------------------------------------------------


def test_listing_row_follows_edits_prices_and_review(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(quantity=2)
    world.listings.update(world.owner, listing_id, {"title": "Sunny loft"}, NOW)
    world.listings.set_price(world.owner, listing_id, date(2026, 6, 12), 25_000, NOW)

    row = query(runner, engine, listings.get_listing, "listings", listing_id)

    assert row["status"] == "active"
    assert row["title"] == "Sunny loft" and row["spec"]["title"] == "Sunny loft"
    assert row["base_price"] == {"amount": 10_000, "currency": "EUR"}
    assert row["price_overrides"] == {"2026-06-12": 25_000}
    assert (row["quantity"], row["city"], row["booking_unit"]) == (2, "Lisbon", "night")
    assert row["version"] == 5 and row["owner_id"] == str(world.owner.id)


def test_owner_listings_page_newest_first_with_a_cursor(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    ids = []
    for n in range(5):
        listing_id, _ = world.listings.create(
            world.owner, listing_spec(title=f"Place {n}"), NOW + timedelta(minutes=n)
        )
        ids.append(str(listing_id))

    first, cursor = query(
        runner, engine, listings.list_owner_listings, "listings", world.owner.id, 3
    )
    rest, end = query(
        runner, engine, listings.list_owner_listings, "listings", world.owner.id, 3, cursor
    )

    assert [r["id"] for r in first + rest] == ids[::-1]
    assert cursor is not None and end is None


# -- bookings ------------------------------------------------------------------------------


def test_bookings_list_by_renter_and_owner_with_status(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(booking_mode="request")
    b1, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-10", end="2026-06-12", quantity=1, guests=2, at=NOW
    )
    b2, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-20", end="2026-06-21", quantity=1, guests=1, at=NOW
    )
    world.bookings.approve(world.owner, b1, NOW + timedelta(hours=1))

    mine, _ = query(runner, engine, bookings.list_bookings, "bookings", world.renter.id, "renter")
    pending, _ = query(
        runner,
        engine,
        bookings.list_bookings,
        "bookings",
        world.owner.id,
        "owner",
        "pending_owner_approval",
    )

    assert {r["id"] for r in mine} == {str(b1), str(b2)}
    approved = next(r for r in mine if r["id"] == str(b1))
    assert approved["status"] == "pending_payment"
    assert approved["expires_at"] == "2026-06-01T10:15:00Z"
    assert approved["total"]["currency"] == "EUR" and approved["total"]["amount"] > 20_000
    assert (approved["start"], approved["end"], approved["guests"]) == (
        "2026-06-10",
        "2026-06-12",
        2,
    )
    assert [r["id"] for r in pending] == [str(b2)]


# -- availability --------------------------------------------------------------------------


def test_night_calendar_counts_holds_reservations_and_blocks(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(quantity=2)
    world.listings.set_price(world.owner, listing_id, date(2026, 6, 11), 30_000, NOW)
    held, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-10", end="2026-06-12", quantity=1, guests=1, at=NOW
    )
    world.listings.add_block(world.owner, listing_id, "2026-06-14", "2026-06-15", "paint", NOW)

    days = by_date(
        query(
            runner,
            engine,
            availability_calendar.calendar_range,
            "availability",
            listing_id,
            date(2026, 6, 9),
            date(2026, 6, 16),
        )
    )

    assert list(days) == [f"2026-06-{d:02d}" for d in range(9, 16)]
    assert days["2026-06-09"] == {
        "date": "2026-06-09",
        "available_units": 2,
        "held": 0,
        "reserved": 0,
        "blocked": False,
        "price": {"amount": 10_000, "currency": "EUR"},
    }
    assert days["2026-06-10"]["held"] == 1 and days["2026-06-10"]["available_units"] == 1
    assert days["2026-06-11"]["price"] == {"amount": 30_000, "currency": "EUR"}
    assert days["2026-06-12"]["held"] == 0  # checkout day is free
    assert days["2026-06-14"]["blocked"] and days["2026-06-14"]["available_units"] == 0

    # Expired at query time counts as free; the expiry command releases it for good.
    at = NOW + timedelta(minutes=16)
    rows = query(
        runner,
        engine,
        availability_calendar.calendar_range,
        "availability",
        listing_id,
        date(2026, 6, 10),
        date(2026, 6, 11),
        at=at,
    )
    assert rows[0]["available_units"] == 2 and rows[0]["held"] == 0
    world.bookings.expire(held, at)
    days = by_date(
        query(
            runner,
            engine,
            availability_calendar.calendar_range,
            "availability",
            listing_id,
            date(2026, 6, 10),
            date(2026, 6, 12),
        )
    )
    assert days["2026-06-10"]["available_units"] == 2 and days["2026-06-10"]["held"] == 0


def test_confirmed_booking_moves_units_from_held_to_reserved(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing()
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-10", end="2026-06-11", quantity=1, guests=1, at=NOW
    )
    booking = world.bookings.get(booking_id)
    calendar = world.bookings.calendar(listing_id)
    booking.confirm(world.admin.id, NOW)
    calendar.confirm(booking_id, NOW)
    world.store.record(booking, calendar)

    (row,) = query(
        runner,
        engine,
        availability_calendar.calendar_range,
        "availability",
        listing_id,
        date(2026, 6, 10),
        date(2026, 6, 11),
        at=NOW + timedelta(days=1),
    )

    assert (row["held"], row["reserved"], row["available_units"]) == (0, 1, 0)


def test_hourly_calendar_widens_by_buffer_and_closes_outside_opening_hours(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(
        category="court",
        buffer_minutes=30,
        opening_hours=OPEN_ALL_DAY,
        pricing={
            "base": {"amount": 2_000, "currency": "EUR"},
            "hourly_windows": [
                {"days": ["wed"], "start": "18:00", "end": "22:00", "multiplier": 1.5}
            ],
        },
    )
    world.bookings.place(
        world.renter,
        listing_id,
        start="2026-06-10T10:00:00+01:00",
        end="2026-06-10T12:00:00+01:00",
        quantity=1,
        guests=2,
        at=NOW,
    )

    slots = query(
        runner,
        engine,
        availability_calendar.calendar_range,
        "availability",
        listing_id,
        date(2026, 6, 10),
        date(2026, 6, 11),
    )

    assert len(slots) == 24  # every local hour of the day, open or not
    by_start = {s["start"]: s for s in slots}
    # Lisbon is UTC+1 in June: 10:00-12:00 local is 09:00-11:00Z, plus the hour of turnover.
    taken = [s["start"] for s in slots if s["held"]]
    assert taken == [f"2026-06-10T{h:02d}:00:00Z" for h in (9, 10, 11)]
    assert by_start["2026-06-10T11:00:00Z"]["available_units"] == 0
    assert by_start["2026-06-10T08:00:00Z"]["available_units"] == 1
    closed = by_start["2026-06-10T05:00:00Z"]  # 06:00 local
    assert closed["open"] is False and closed["available_units"] == 0
    assert by_start["2026-06-10T17:00:00Z"]["price"] == {"amount": 3_000, "currency": "EUR"}
    assert by_start["2026-06-10T12:00:00Z"]["price"] == {"amount": 2_000, "currency": "EUR"}


def test_calendar_is_empty_of_rows_once_everything_is_released(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing()
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-10", end="2026-06-12", quantity=1, guests=1, at=NOW
    )
    block_id, _ = world.listings.add_block(
        world.owner, listing_id, "2026-06-20", "2026-06-22", "x", NOW
    )
    world.bookings.cancel(world.renter, booking_id, "changed plans", NOW)
    world.listings.remove_block(world.owner, listing_id, block_id, NOW)
    runner.catch_up()

    with engine.connect() as conn:
        keys = runner.tables("availability")["keys"]
        assert conn.execute(keys.select()).all() == []


# -- deadlines -----------------------------------------------------------------------------


def test_deadlines_follow_the_booking_status(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(booking_mode="request")
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-06-10", end="2026-06-12", quantity=1, guests=1, at=NOW
    )
    far = NOW + timedelta(days=60)

    (d,) = query(runner, engine, deadlines.due, "deadlines", far, 10)
    assert (d.booking_id, d.kind, d.booking_version) == (booking_id, "expire", 1)
    assert d.due_at == NOW + timedelta(hours=24)
    assert query(runner, engine, deadlines.due, "deadlines", NOW + timedelta(hours=23), 10) == []

    world.bookings.approve(world.owner, booking_id, NOW + timedelta(hours=1))
    (d,) = query(runner, engine, deadlines.due, "deadlines", far, 10)
    assert (d.kind, d.due_at, d.booking_version) == ("expire", NOW + timedelta(minutes=75), 2)

    booking = world.bookings.get(booking_id)
    calendar = world.bookings.calendar(listing_id)
    booking.confirm(world.admin.id, NOW + timedelta(hours=1))
    calendar.confirm(booking_id, NOW + timedelta(hours=1))
    world.store.record(booking, calendar)
    (d,) = query(runner, engine, deadlines.due, "deadlines", far, 10)
    assert (d.kind, d.due_at) == ("start", booking.start_at)

    world.bookings.cancel(world.renter, booking_id, "changed plans", NOW + timedelta(hours=2))
    assert query(runner, engine, deadlines.due, "deadlines", far, 10) == []


# -- audit ---------------------------------------------------------------------------------


def test_audit_rows_carry_the_actor_and_request(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing()
    with command_context(world.renter, request_id="req-1"):
        booking_id, position = world.bookings.place(
            world.renter,
            listing_id,
            start="2026-06-10",
            end="2026-06-11",
            quantity=1,
            guests=1,
            at=NOW,
        )
    with command_context(Actor(world.owner.id, "owner")):
        world.bookings.cancel(world.owner, booking_id, "sorry", NOW)

    mine, _ = query(runner, engine, audit.search_audit, "audit", actor=str(world.renter.id))
    placed, _ = query(runner, engine, audit.search_audit, "audit", type="Booking.Placed")

    assert {r["type"] for r in mine} == {"ListingCalendar.HoldPlaced", "Booking.Placed"}
    assert all(r["request_id"] == "req-1" and r["actor_role"] == "user" for r in mine)
    (row,) = placed
    assert row["stream_id"] == str(booking_id) and row["version"] == 1
    assert row["position"] == position and row["topic"].endswith("Booking.Placed")
    assert row["recorded_at"].endswith("Z") and row["correlation_id"] == "req-1"


def test_audit_pages_in_log_order(world: World, runner: ProjectionRunner, engine: Engine) -> None:
    world.active_listing()
    world.active_listing()
    everything, _ = query(runner, engine, audit.search_audit, "audit", limit=100)
    pages, cursor = [], None
    while True:
        page, cursor = query(runner, engine, audit.search_audit, "audit", limit=4, cursor=cursor)
        pages += page
        if cursor is None:
            break
    assert pages == everything
    assert [r["position"] for r in everything] == sorted(r["position"] for r in everything)
