"""The search documents view, fed with real events from the use cases (in-memory store,
SQLite views): listing fields, status, and which keys no unit is free for (the log as the
syncer reads it: `test_search_documents_log.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.search_sync import EPOCH_ORDINAL, document_for
from infrastructure.views_db import create_views_engine
from projections.runner import ProjectionRunner
from projections.search_documents import SearchDocumentsView
from tests.builders import NOW, World, listing_spec, make_world
from tests.projections.search_documents_support import (
    OPEN_ALL_DAY,
    TODAY,
    day_numbers,
    nights,
    place,
    row_of,
)


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}", pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def runner(world: World, engine: Engine) -> ProjectionRunner:
    return ProjectionRunner(world.store, engine, [SearchDocumentsView()], batch_size=4)


# -- listing fields and status --------------------------------------------------------------


def test_an_active_listing_row_carries_the_document_fields(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(quantity=2, amenities=["Wifi", "kitchen"])

    row = row_of(runner, engine, listing_id)

    assert (row["version"], row["status"], row["deleted"]) == (3, "active", False)
    assert document_for(row, TODAY) == {
        "id": str(listing_id),
        "version": row["position"],
        "title": "A fine stay",
        "description": "Light, quiet and close to everything.",
        "category": "stay",
        "category_data": {"property_type": "apartment", "bedrooms": 2, "beds": 3, "bathrooms": 1.5},
        "city": "Lisbon",
        "country": "PT",
        "_geo": {"lat": 38.7101, "lng": -9.1366},
        "price_amount": 10_000,
        "currency": "EUR",
        "capacity": 4,
        "units": 2,
        "amenities": ["kitchen", "wifi"],
        "booking_mode": "instant",
        "booking_unit": "night",
        "rating": 0.0,
        "review_count": 0,
        "created_at": int(NOW.timestamp()),
        "cover_thumbnail_url": None,
        "blocked_nights": [-1],  # the sentinel: never an empty array
        "blocked_hours": [-1],
    }


def test_drafts_are_deleted_rows_and_deactivation_deletes_until_reactivated(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    draft_id, _ = world.listings.create(world.owner, listing_spec(), NOW)
    assert row_of(runner, engine, draft_id)["deleted"] is True

    listing_id = world.active_listing()
    active = row_of(runner, engine, listing_id)
    position = world.listings.deactivate(world.owner, listing_id, NOW)
    off = row_of(runner, engine, listing_id)
    world.listings.activate(world.owner, listing_id, NOW)
    back = row_of(runner, engine, listing_id)

    assert (off["status"], off["deleted"], off["version"], off["position"]) == (
        "inactive",
        True,
        active["version"] + 1,
        position,
    )
    assert (back["status"], back["deleted"], back["version"]) == ("active", False, 5)
    assert back["position"] > off["position"] > active["position"]


def test_edits_and_prices_move_version_and_position(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing()
    world.listings.update(
        world.owner,
        listing_id,
        {"title": "Sunny loft", "pricing": {"base": {"amount": 12_500, "currency": "EUR"}}},
        NOW,
    )
    edited = row_of(runner, engine, listing_id)
    position = world.listings.set_price(world.owner, listing_id, date(2026, 6, 12), 9_000, NOW)
    repriced = row_of(runner, engine, listing_id)

    assert (edited["title"], edited["price_amount"], edited["version"]) == ("Sunny loft", 12_500, 4)
    assert (repriced["version"], repriced["position"]) == (5, position)
    assert repriced["price_amount"] == 12_500  # a per-date override is not the base price


# -- fully blocked keys ---------------------------------------------------------------------


def test_a_single_unit_is_blocked_for_booked_nights_until_released(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing()
    before = row_of(runner, engine, listing_id)
    held = place(world, listing_id, "2026-06-10", "2026-06-12")
    kept = place(world, listing_id, "2026-06-20", "2026-06-21")

    row = row_of(runner, engine, listing_id)
    assert row["blocked_keys"] == nights("2026-06-10", "2026-06-11", "2026-06-20")
    assert row["position"] > before["position"] and row["version"] == before["version"]
    assert document_for(row, TODAY)["blocked_nights"] == [
        -1,
        *day_numbers("2026-06-10", "2026-06-11", "2026-06-20"),
    ]

    world.bookings.expire(held, NOW + timedelta(minutes=16))
    world.bookings.cancel(world.renter, kept, "changed plans", NOW)
    assert row_of(runner, engine, listing_id)["blocked_keys"] == []


def test_holds_count_until_released_even_once_expired(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing()
    place(world, listing_id, "2026-06-10", "2026-06-11")  # expires 15 minutes later

    assert row_of(runner, engine, listing_id)["blocked_keys"] == nights("2026-06-10")


def test_several_units_block_only_when_all_are_taken(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(quantity=3)
    start = row_of(runner, engine, listing_id)
    place(world, listing_id, "2026-06-10", "2026-06-13")
    place(world, listing_id, "2026-06-11", "2026-06-12")

    partly = row_of(runner, engine, listing_id)
    assert partly["blocked_keys"] == []
    assert partly["position"] == start["position"]  # nothing the index shows changed

    place(world, listing_id, "2026-06-11", "2026-06-14")
    assert row_of(runner, engine, listing_id)["blocked_keys"] == nights("2026-06-11")
    place(world, listing_id, "2026-06-20", "2026-06-21", quantity=3)
    assert row_of(runner, engine, listing_id)["blocked_keys"] == nights("2026-06-11", "2026-06-20")


def test_blocks_close_every_unit_and_lifting_them_reopens(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(quantity=2)
    block_id, _ = world.listings.add_block(
        world.owner, listing_id, "2026-07-01", "2026-07-03", "paint", NOW
    )
    assert row_of(runner, engine, listing_id)["blocked_keys"] == nights("2026-07-01", "2026-07-02")

    world.listings.remove_block(world.owner, listing_id, block_id, NOW)
    assert row_of(runner, engine, listing_id)["blocked_keys"] == []


def test_changing_the_unit_count_rechecks_every_key(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(quantity=1)
    place(world, listing_id, "2026-06-10", "2026-06-11")
    assert row_of(runner, engine, listing_id)["blocked_keys"] == nights("2026-06-10")

    world.listings.update(world.owner, listing_id, {"quantity": 2}, NOW)
    row = row_of(runner, engine, listing_id)
    assert (row["units"], row["blocked_keys"]) == (2, [])


def test_hourly_slots_are_blocked_with_their_buffer(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(
        category="court", buffer_minutes=30, opening_hours=OPEN_ALL_DAY
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

    row = row_of(runner, engine, listing_id)
    # 09:00-11:00Z booked, plus the hour of turnover after it.
    first = int(date(2026, 6, 10).toordinal() - EPOCH_ORDINAL) * 86_400 + 9 * 3600
    assert row["blocked_keys"] == [first, first + 3600, first + 7200]
    document = document_for(row, TODAY)
    assert document["blocked_hours"] == [-1, *(first // 3600 + n for n in range(3))]
    assert document["blocked_nights"] == [-1]
    assert document_for(row, date(2026, 6, 11))["blocked_hours"] == [-1]  # in the past
    assert document_for(row, date(2026, 3, 11))["blocked_hours"] == [-1]  # beyond 90 days


def test_the_horizon_drops_past_nights_and_takes_in_new_ones(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing()
    place(world, listing_id, "2026-06-10", "2026-06-11")
    world.listings.add_block(world.owner, listing_id, "2027-05-30", "2027-05-31", "x", NOW)
    row = row_of(runner, engine, listing_id)

    assert document_for(row, date(2026, 5, 1))["blocked_nights"] == [
        -1,
        *day_numbers("2026-06-10"),
    ]
    assert document_for(row, date(2026, 6, 15))["blocked_nights"] == [
        -1,
        *day_numbers("2027-05-30"),
    ]
