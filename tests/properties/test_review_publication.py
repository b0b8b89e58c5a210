"""The double-blind rule, for any order of submissions, clock ticks and scheduler runs: no
review is visible (on the aggregate or in the reviews view) before both are in or the
window closed, and the reviews of a booking become visible together."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from application.reviews import Reviews
from domain.errors import DomainError
from domain.review import OWNER, RENTER, SIDES, BookingReviews
from infrastructure.views_db import create_views_engine
from projections.reviews import ReviewsView, list_reviews
from projections.runner import ProjectionRunner
from tests.builders import make_world
from tests.review_builders import returned_booking

steps = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.sampled_from(SIDES), st.integers(1, 5)),
        st.tuples(st.just("tick"), st.integers(0, 24 * 20)),  # hours
        st.tuples(st.just("scheduler")),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(steps, st.integers(0, 24 * 15))
def test_reviews_are_hidden_until_both_are_in_or_the_window_closed_then_shown_together(
    plan: list[tuple[Any, ...]], first_hours: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_views_engine(f"sqlite:///{Path(tmp) / 'views.db'}")
        try:
            check(plan, first_hours, engine)
        finally:
            engine.dispose()


def check(plan: list[tuple[Any, ...]], first_hours: int, engine: Engine) -> None:
    world = make_world()
    runner = ProjectionRunner(world.store, engine, [ReviewsView()], batch_size=2)
    listing_id = world.active_listing()
    booking_id, returned_at = returned_booking(world, listing_id)
    reviews = Reviews(world.store, world.bookings)
    actors = {RENTER: world.renter, OWNER: world.owner}
    closes = returned_at + timedelta(days=14)
    now = returned_at + timedelta(hours=first_hours)
    for step in [*plan, ("tick", 24 * 15), ("scheduler",)]:
        if step[0] == "submit":
            with contextlib.suppress(DomainError):  # twice, or too late: refused
                reviews.submit(
                    actors[step[1]],
                    booking_id,
                    rating=step[2],
                    comment="fine",
                    category_ratings=None,
                    at=now,
                )
        elif step[0] == "tick":
            now += timedelta(hours=step[1])
        else:
            reviews.publish_due(booking_id, now)
        runner.catch_up()
        assert_double_blind(reviews.of_booking(booking_id), now, closes, engine, runner)
    # Past the window and after a scheduler run, whatever was written is out.
    final = reviews.of_booking(booking_id)
    assert final is None or visible(final) == set(final.reviews)


def visible(reviews: BookingReviews) -> set[str]:
    return {side for side in SIDES if reviews.visible_to(side, None, "")}


def assert_double_blind(
    reviews: BookingReviews | None,
    now: datetime,
    closes: datetime,
    engine: Engine,
    runner: ProjectionRunner,
) -> None:
    with engine.connect() as conn:
        shown = {
            row["side"]
            for row in list_reviews(conn, runner.tables("reviews"), reviewee_id=None, limit=100)[0]
        }
    if reviews is None:
        assert not shown
        return
    seen = visible(reviews)
    assert shown == seen  # the view shows exactly what the aggregate publishes
    written = set(reviews.reviews)
    if seen:
        assert seen == written  # together
        assert written == set(SIDES) or now >= closes  # never early
    if written == set(SIDES):
        assert seen == written  # the second review publishes both at once
