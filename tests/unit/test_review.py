"""Double-blind review rules: given a booking's reviews, when a command, then events or an
error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from application.context import Actor
from domain.errors import ConflictError, NotFoundError, PermissionDenied, RuleViolation
from domain.review import (
    OWNER,
    RENTER,
    REVIEW_WINDOW,
    BookingReviews,
    average,
    review_id_for,
    reviews_id_for,
)
from tests.builders import NOW, make_world, memory_store

RETURNED = datetime(2026, 6, 12, 10, 0, tzinfo=UTC)
AT = RETURNED + timedelta(days=1)
RENTER_ID, OWNER_ID, ADMIN_ID = uuid4(), uuid4(), uuid4()


def opened(status: str = "completed", returned_at: datetime | None = RETURNED) -> BookingReviews:
    reviews = BookingReviews.open(
        booking_id=uuid4(),
        listing_id=uuid4(),
        renter_id=RENTER_ID,
        owner_id=OWNER_ID,
        status=status,
        returned_at=returned_at,
    )
    reviews.collect_events()
    return reviews


def submit(reviews: BookingReviews, by: Any = RENTER_ID, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "rating": 5,
        "comment": "Spotless and quiet.",
        "category_ratings": {"cleanliness": 5, "value": 4} if by == RENTER_ID else {"care": 5},
        "at": AT,
    }
    fields.update(overrides)
    return reviews.submit(by=by, **fields)


def names(reviews: BookingReviews) -> list[str]:
    return [type(e).__name__ for e in reviews.collect_events()]


def test_the_window_opens_when_the_booking_returned_and_closes_14_days_later() -> None:
    reviews = BookingReviews.open(
        booking_id=(booking_id := uuid4()),
        listing_id=uuid4(),
        renter_id=RENTER_ID,
        owner_id=OWNER_ID,
        status="awaiting_return_inspection",
        returned_at=RETURNED,
    )
    assert names(reviews) == ["Opened"]
    assert reviews.id == reviews_id_for(booking_id)
    assert (reviews.window_opens_at, reviews.window_closes_at) == (
        RETURNED,
        RETURNED + REVIEW_WINDOW,
    )
    assert reviews.publish_due == RETURNED + REVIEW_WINDOW


@pytest.mark.parametrize("status", ["confirmed", "in_progress", "cancelled", "refunded"])
def test_a_booking_before_its_return_or_cancelled_cannot_be_reviewed(status: str) -> None:
    with pytest.raises(RuleViolation) as e:
        opened(status=status, returned_at=None)
    assert e.value.code == "not_reviewable"


def test_a_first_review_is_submitted_and_stays_pending() -> None:
    reviews = opened()
    assert submit(reviews) == RENTER
    (event,) = reviews.collect_events()
    assert type(event).__name__ == "Submitted"
    assert event.side == RENTER and event.reviewee_id == OWNER_ID  # type: ignore[attr-defined]
    assert event.review_id == review_id_for(reviews.booking_id, RENTER)  # type: ignore[attr-defined]
    assert not reviews.is_published
    assert reviews.visible_to(RENTER, RENTER_ID, "user")  # its author sees it
    assert not reviews.visible_to(RENTER, OWNER_ID, "user")  # the other side does not
    assert not reviews.visible_to(RENTER, ADMIN_ID, "admin")  # nor anyone
    assert not reviews.is_visible(RENTER)


def test_the_second_review_publishes_both_in_the_same_change() -> None:
    reviews = opened()
    submit(reviews)
    reviews.collect_events()
    assert submit(reviews, by=OWNER_ID, at=AT + timedelta(hours=2)) == OWNER
    events = reviews.collect_events()
    assert [type(e).__name__ for e in events] == ["Submitted", "Published"]
    published: Any = events[1]
    assert [r["side"] for r in published.ratings] == [RENTER, OWNER]
    assert published.listing_id == reviews.listing_id
    assert reviews.published_at == AT + timedelta(hours=2) and reviews.publish_due is None
    assert reviews.is_visible(RENTER) and reviews.is_visible(OWNER)
    assert reviews.visible_to(OWNER, None, "")  # public now


def test_a_side_reviews_once() -> None:
    reviews = opened()
    submit(reviews)
    with pytest.raises(ConflictError) as e:
        submit(reviews)
    assert e.value.code == "already_reviewed"


def test_someone_else_cannot_review_the_booking() -> None:
    with pytest.raises(NotFoundError):
        submit(opened(), by=uuid4())


@pytest.mark.parametrize(
    "at",
    [RETURNED - timedelta(seconds=1), RETURNED + REVIEW_WINDOW, RETURNED + timedelta(days=30)],
)
def test_a_review_outside_the_window_is_refused(at: datetime) -> None:
    with pytest.raises(RuleViolation) as e:
        submit(opened(), at=at)
    assert e.value.code == "review_window_closed"


def test_the_last_instant_of_the_window_is_inside() -> None:
    reviews = opened()
    submit(reviews, at=RETURNED + REVIEW_WINDOW - timedelta(microseconds=1))
    assert names(reviews) == ["Submitted"]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"rating": 0}, "bad_rating"),
        ({"rating": 6}, "bad_rating"),
        ({"rating": True}, "bad_rating"),
        ({"rating": 4.5}, "bad_rating"),
        ({"category_ratings": {"cleanliness": 9}}, "bad_rating"),
        ({"category_ratings": {"care": 5}}, "bad_category"),  # the owner's category
        ({"comment": "   "}, "comment_required"),
        ({"comment": "x" * 5001}, "comment_too_long"),
    ],
)
def test_bad_ratings_and_comments_are_refused_and_record_nothing(
    overrides: dict[str, Any], code: str
) -> None:
    reviews = opened()
    with pytest.raises(RuleViolation) as e:
        submit(reviews, **overrides)
    assert e.value.code == code
    assert names(reviews) == [] and reviews.reviews == {}


def test_the_window_close_publishes_a_lone_review() -> None:
    reviews = opened()
    submit(reviews)
    reviews.collect_events()
    with pytest.raises(RuleViolation):
        reviews.publish(RETURNED + REVIEW_WINDOW - timedelta(seconds=1))
    reviews.publish(RETURNED + REVIEW_WINDOW)
    assert names(reviews) == ["Published"]
    assert reviews.is_visible(RENTER) and not reviews.is_visible(OWNER)
    with pytest.raises(ConflictError):
        reviews.publish(RETURNED + REVIEW_WINDOW)


def test_no_review_is_accepted_after_publication() -> None:
    reviews = opened()
    submit(reviews)
    reviews.publish(RETURNED + REVIEW_WINDOW)
    with pytest.raises(RuleViolation):
        submit(reviews, by=OWNER_ID, at=RETURNED + REVIEW_WINDOW)


def published() -> BookingReviews:
    reviews = opened()
    submit(reviews)
    submit(reviews, by=OWNER_ID)
    reviews.collect_events()
    return reviews


def test_the_owner_replies_once_to_the_renters_review() -> None:
    reviews = published()
    review_id = review_id_for(reviews.booking_id, RENTER)
    reviews.reply(review_id, "Thanks, come back!", OWNER_ID, AT)
    assert names(reviews) == ["Replied"]
    assert reviews.reviews[RENTER]["reply"] == "Thanks, come back!"
    with pytest.raises(ConflictError) as e:
        reviews.reply(review_id, "Again", OWNER_ID, AT)
    assert e.value.code == "already_replied"


def test_only_the_owner_replies_and_only_to_the_review_of_the_listing() -> None:
    reviews = published()
    with pytest.raises(PermissionDenied):
        reviews.reply(review_id_for(reviews.booking_id, RENTER), "Me too", RENTER_ID, AT)
    with pytest.raises(PermissionDenied):
        reviews.reply(review_id_for(reviews.booking_id, OWNER), "Hm", OWNER_ID, AT)
    with pytest.raises(RuleViolation):
        reviews.reply(review_id_for(reviews.booking_id, RENTER), "x" * 2001, OWNER_ID, AT)


def test_an_unpublished_review_cannot_be_replied_to_or_hidden() -> None:
    reviews = opened()
    submit(reviews)
    review_id = review_id_for(reviews.booking_id, RENTER)
    with pytest.raises(NotFoundError):
        reviews.reply(review_id, "Thanks", OWNER_ID, AT)
    with pytest.raises(NotFoundError):
        reviews.hide(review_id, "abusive", ADMIN_ID, "admin", AT)


def test_an_admin_hides_a_published_review_with_a_reason_once() -> None:
    reviews = published()
    review_id = review_id_for(reviews.booking_id, OWNER)
    with pytest.raises(PermissionDenied):
        reviews.hide(review_id, "abusive", RENTER_ID, "user", AT)
    reviews.hide(review_id, "abusive", ADMIN_ID, "admin", AT)
    (event,) = reviews.collect_events()
    assert type(event).__name__ == "Hidden"
    assert (event.by, event.role, event.reason, event.rating) == (  # type: ignore[attr-defined]
        ADMIN_ID,
        "admin",
        "abusive",
        5,
    )
    assert not reviews.is_visible(OWNER) and reviews.is_visible(RENTER)
    assert reviews.visible_to(OWNER, ADMIN_ID, "admin")
    assert not reviews.visible_to(OWNER, None, "")
    with pytest.raises(ConflictError):
        reviews.hide(review_id, "again", ADMIN_ID, "admin", AT)


def test_a_hidden_review_takes_no_reply() -> None:
    reviews = published()
    review_id = review_id_for(reviews.booking_id, RENTER)
    reviews.hide(review_id, "spam", ADMIN_ID, "admin", AT)
    with pytest.raises(ConflictError) as e:
        reviews.reply(review_id, "Thanks", OWNER_ID, AT)
    assert e.value.code == "review_hidden"


def test_the_stored_events_rebuild_the_same_state() -> None:
    store = memory_store()
    reviews = BookingReviews.open(
        booking_id=uuid4(),
        listing_id=uuid4(),
        renter_id=RENTER_ID,
        owner_id=OWNER_ID,
        status="settled",
        returned_at=RETURNED,
    )
    submit(reviews)
    submit(reviews, by=OWNER_ID)
    reviews.reply(review_id_for(reviews.booking_id, RENTER), "Thanks", OWNER_ID, AT)
    reviews.hide(review_id_for(reviews.booking_id, OWNER), "spam", ADMIN_ID, "admin", AT)
    store.record(reviews)
    loaded = store.load(reviews.id, "reviews")
    assert loaded.reviews == reviews.reviews
    assert loaded.published_at == reviews.published_at and loaded.version == reviews.version


def test_averages_round_half_up_to_two_decimals() -> None:
    assert average(0, 0) == 0.0
    assert average(9, 2) == 4.5
    assert average(14, 3) == 4.67
    assert average(13, 3) == 4.33
    assert average(5, 1) == 5.0


def test_a_booking_remembers_when_it_returned_which_opens_the_review_window() -> None:
    world = make_world()
    booking_id, _ = world.bookings.place(
        world.renter,
        world.active_listing(),
        start="2026-06-10",
        end="2026-06-12",
        quantity=1,
        guests=1,
        at=NOW,
    )
    booking = world.bookings.get(booking_id)
    system = Actor.system().id
    booking.confirm(system, NOW)
    booking.begin(system, booking.start_at)
    assert booking.returned_at is None
    end_at = booking.deadline("end_at")
    assert end_at is not None
    booking.finish(system, end_at + timedelta(hours=3))  # the scheduler ran late
    booking.complete(world.owner.id, "owner", end_at + timedelta(days=1))
    world.store.record(booking)
    assert world.bookings.get(booking_id).returned_at == end_at + timedelta(hours=3)
