"""The public profiles view, fed with real events: what it shows of a user, and an owner's
response rate and median response time from the booking requests they received."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from application.context import Actor
from domain.errors import RuleViolation
from infrastructure.views_db import create_views_engine
from projections.profiles import read_profile
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.builders import NOW, World, identity_of, make_world


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
    return ProjectionRunner(world.store, engine, all_projections(), batch_size=3)


def profile(runner: ProjectionRunner, engine: Engine, user_id: UUID) -> dict[str, Any] | None:
    runner.catch_up()
    with engine.connect() as conn:
        return read_profile(conn, runner.tables("profiles"), user_id)


def request(world: World, listing_id: UUID, n: int) -> UUID:
    day = f"2026-07-{10 + 2 * n:02d}"
    end = f"2026-07-{11 + 2 * n:02d}"
    booking_id, _ = world.bookings.place(
        world.renter, listing_id, start=day, end=end, quantity=1, guests=1, at=NOW
    )
    return booking_id


def test_a_new_owner_has_no_response_statistics(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    row = profile(runner, engine, world.owner.id)
    assert row is not None
    assert row["name"] == "Olivia Owner" and row["email_verified"]
    assert row["response_rate"] is None and row["median_response_seconds"] is None
    assert row["member_since"] == NOW
    assert "email" not in row and "phone" not in row


def test_response_rate_counts_answers_before_expiry_and_ignores_withdrawn_and_waiting(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(booking_mode="request")
    owner, renter = world.owner, world.renter
    approved, declined, slow, expired, withdrawn, waiting = (
        request(world, listing_id, n) for n in range(6)
    )
    world.bookings.approve(owner, approved, NOW + timedelta(hours=1))
    world.bookings.decline(owner, declined, "busy", NOW + timedelta(hours=3))
    world.bookings.approve(owner, slow, NOW + timedelta(hours=20))
    world.bookings.expire(expired, NOW + timedelta(hours=25))
    world.bookings.cancel(renter, withdrawn, "changed plans", NOW + timedelta(hours=2))
    # A later expiry of the approved booking's payment hold is no unanswered request.
    world.bookings.expire(approved, NOW + timedelta(days=2))
    assert waiting
    row = profile(runner, engine, owner.id)
    assert row is not None
    assert row["response_rate"] == pytest.approx(3 / 4)
    assert row["median_response_seconds"] == 3 * 3600  # of 1 h, 3 h and 20 h
    world.bookings.approve(owner, waiting, NOW + timedelta(hours=5))
    row = profile(runner, engine, owner.id)
    assert row is not None
    assert row["response_rate"] == pytest.approx(4 / 5)
    assert row["median_response_seconds"] == 4 * 3600  # (3 h + 5 h) / 2


def test_instant_bookings_are_not_requests(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(booking_mode="instant")
    request(world, listing_id, 0)
    row = profile(runner, engine, world.owner.id)
    assert row is not None and row["response_rate"] is None


def test_profile_edits_show_and_suspended_users_are_hidden(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    identity = identity_of(world.store)
    avatar = UUID(int=5)
    user = world.owner.id
    with pytest.raises(RuleViolation):
        identity.update_profile(user, name=" ", at=NOW)
    world_user = world.store.load(user, "user")
    world_user.update_profile(bio="Sailor.", languages=["pt", "en"], avatar_media_id=avatar, at=NOW)
    world.store.record(world_user)
    row = profile(runner, engine, user)
    assert row is not None
    assert (row["bio"], row["languages"], row["avatar_media_id"]) == (
        "Sailor.",
        ["pt", "en"],
        avatar,
    )
    admin_id = identity.create_admin("root@example.com", "correct horse battery", "R", at=NOW)[0]
    identity.suspend_user(user, by_admin=admin_id, reason="spam", at=NOW)
    assert profile(runner, engine, user) is None
    identity.reinstate_user(user, by_admin=admin_id, at=NOW)
    assert profile(runner, engine, user) is not None
    assert profile(runner, engine, Actor(UUID(int=9), "user").id) is None


def test_a_rebuilt_profiles_view_equals_the_incremental_one(
    world: World, runner: ProjectionRunner, engine: Engine
) -> None:
    listing_id = world.active_listing(booking_mode="request")
    for n in range(3):
        booking_id = request(world, listing_id, n)
        world.bookings.approve(world.owner, booking_id, NOW + timedelta(minutes=30 * (n + 1)))
    before = profile(runner, engine, world.owner.id)
    runner.rebuild("profiles")
    assert profile(runner, engine, world.owner.id) == before


# -- the statistics agree with a plain model, for any history ---------------------------------

outcomes = st.lists(
    st.tuples(
        st.sampled_from(["approve", "decline", "expire", "withdraw", "wait"]),
        st.integers(0, 48 * 60),  # minutes after the request when it is settled
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outcomes)
def test_response_statistics_match_a_plain_model(
    tmp_path_factory: pytest.TempPathFactory, history: list[tuple[str, int]]
) -> None:
    world = make_world()
    listing_id = world.active_listing(booking_mode="request")
    answered: list[int] = []
    expired = 0
    for n, (outcome, minutes) in enumerate(history):
        booking_id = request(world, listing_id, n)
        at = NOW + timedelta(minutes=minutes)
        if outcome in ("approve", "decline") and minutes < 24 * 60:
            if outcome == "approve":
                world.bookings.approve(world.owner, booking_id, at)
            else:
                world.bookings.decline(world.owner, booking_id, "no", at)
            answered.append(minutes * 60)
        elif outcome == "expire":
            world.bookings.expire(booking_id, NOW + timedelta(hours=24, minutes=minutes))
            expired += 1
        elif outcome == "withdraw":
            world.bookings.cancel(world.renter, booking_id, "plans changed", at)
    engine = create_views_engine(f"sqlite:///{tmp_path_factory.mktemp('p') / 'views.db'}")
    try:
        runner = ProjectionRunner(world.store, engine, all_projections(), batch_size=4)
        row = profile(runner, engine, world.owner.id)
    finally:
        engine.dispose()
    assert row is not None
    settled = len(answered) + expired
    assert row["response_rate"] == (len(answered) / settled if settled else None)
    assert row["median_response_seconds"] == (
        round(statistics.median(answered)) if answered else None
    )
