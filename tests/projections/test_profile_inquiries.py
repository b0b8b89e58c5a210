"""Inquiries in the owner's response statistics, fed with real events: the first reply
within 24 h counts as answered, a later one or none after 24 h as missed; every first
reply's delay (requests' answers too) enters the median; booking conversations do not count."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from application.context import Actor
from application.conversations import Conversations
from domain.conversation import booking_conversation_id, inquiry_id
from infrastructure.views_db import create_views_engine
from projections.profiles import read_profile
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, World, make_world


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


def stats(world: World, engine: Engine, now: datetime | None) -> tuple[Any, Any]:
    runner = ProjectionRunner(world.store, engine, all_projections(), batch_size=2)
    runner.catch_up()
    with engine.connect() as conn:
        row = read_profile(conn, runner.tables("profiles"), world.owner.id, now)
    assert row is not None
    return row["response_rate"], row["median_response_seconds"]


def test_inquiries_answered_late_or_not_at_all_count_as_missed(engine: Engine) -> None:
    world = make_world()
    listing_id = world.active_listing()
    chats = Conversations(world.store, world.bookings)
    renters = [Actor(UUID(int=n + 1), "user") for n in range(4)]
    for renter in renters:
        chats.inquire(renter, listing_id, "Free?", None, NOW)
        chats.inquire(renter, listing_id, "Hello?", None, NOW + timedelta(minutes=1))

    def reply(renter: Actor, after: timedelta) -> None:
        cid = inquiry_id(renter.id, world.owner.id, listing_id)
        chats.post(world.owner, cid, "Yes", None, NOW + after)
        chats.post(world.owner, cid, "Again", None, NOW + after + timedelta(hours=1))

    reply(renters[0], timedelta(minutes=10))
    reply(renters[1], timedelta(hours=2))
    reply(renters[2], timedelta(hours=30))  # late: missed, but its delay is a response time
    assert stats(world, engine, None) == (2 / 3, 7200)
    # The fourth, unanswered, counts once 24 h passed.
    assert stats(world, engine, NOW + timedelta(hours=23)) == (2 / 3, 7200)
    assert stats(world, engine, NOW + timedelta(hours=25)) == (0.5, 7200)


def test_booking_conversations_leave_the_statistics_alone(engine: Engine) -> None:
    world = make_world()
    listing_id = world.active_listing()
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start="2026-07-01", end="2026-07-03", quantity=1, guests=1, at=NOW
    )
    chats = Conversations(world.store, world.bookings)
    cid = booking_conversation_id(booking_id)
    chats.post(world.renter, cid, "Hi", None, NOW, booking_id=booking_id)
    chats.post(world.owner, cid, "Hello", None, NOW + timedelta(hours=1), booking_id=booking_id)
    assert stats(world, engine, NOW + timedelta(days=3)) == (None, None)
