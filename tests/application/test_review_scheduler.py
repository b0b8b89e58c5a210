"""The review window's close is a deadline: the scheduler, reading the review deadlines view
beside the bookings' one, publishes a lone review once, idempotently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from application.reviews import Reviews, deadline_handlers
from application.scheduler import AllDeadlines, Scheduler
from domain.review import RENTER
from infrastructure.review_deadlines import ViewReviewDeadlineSource
from infrastructure.views_db import create_views_engine
from projections.deadlines import DeadlinesView, ViewDeadlineSource
from projections.review_deadlines import ReviewDeadlinesView
from projections.runner import ProjectionRunner
from tests.builders import make_world
from tests.review_builders import returned_booking


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


def test_a_lone_review_is_published_once_when_its_window_closes(engine: Engine) -> None:
    world = make_world()
    runner = ProjectionRunner(world.store, engine, [DeadlinesView(), ReviewDeadlinesView()])
    source = AllDeadlines(
        ViewDeadlineSource(engine, runner.tables("deadlines")),
        ViewReviewDeadlineSource(engine, runner.tables("review_deadlines")),
    )
    scheduler = Scheduler(
        world.bookings, source, handlers=deadline_handlers(world.store, world.bookings)
    )
    reviews = Reviews(world.store, world.bookings)
    booking_id, returned_at = returned_booking(world, world.active_listing())
    reviews.submit(
        world.renter, booking_id, rating=3, comment="ok", category_ratings=None, at=returned_at
    )
    runner.catch_up()
    closes = returned_at + timedelta(days=14)

    # The booking's inspection deadline falls due first (and completes it); no publication.
    scheduler.run_due(closes - timedelta(seconds=1))
    runner.catch_up()
    lone = reviews.of_booking(booking_id)
    assert lone is not None and not lone.is_published

    assert scheduler.run_due(closes) == 1
    assert scheduler.run_due(closes) == 0  # the view lags: the version guard makes it a no-op
    runner.catch_up()
    assert scheduler.run_due(closes + timedelta(days=1)) == 0
    published = reviews.of_booking(booking_id)
    assert published is not None and published.published_at == closes
    assert published.is_visible(RENTER)
    assert world.bookings.get(booking_id).status == "completed"


def test_all_deadlines_merges_its_sources_oldest_first(engine: Engine) -> None:
    world = make_world()
    runner = ProjectionRunner(world.store, engine, [DeadlinesView(), ReviewDeadlinesView()])
    reviews = Reviews(world.store, world.bookings)
    listing_id = world.active_listing()
    booking_id, returned_at = returned_booking(world, listing_id)
    reviews.submit(
        world.owner, booking_id, rating=5, comment="great", category_ratings=None, at=returned_at
    )
    runner.catch_up()
    source = AllDeadlines(
        ViewDeadlineSource(engine, runner.tables("deadlines")),
        ViewReviewDeadlineSource(engine, runner.tables("review_deadlines")),
    )
    due = source.due(returned_at + timedelta(days=20), 10)
    assert [d.kind for d in due] == ["complete", "publish_reviews"]
    assert [d.booking_id for d in due] == [booking_id, booking_id]
    assert source.due(returned_at + timedelta(days=20), 1) == due[:1]
