"""Review use cases: the parties review a finished booking, the window's close publishes
what is in (a deadline the scheduler issues), the owner replies, an admin hides.

The booking's `BookingReviews` is created with its first review; each review also gets a
`ReviewIndex` (saved in the same record) so `/reviews/{id}` finds its booking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from application.bookings import Bookings
from application.context import Actor
from application.retry import retry_on_conflict
from application.store import EventStore
from domain.deadlines import Deadline
from domain.errors import NotFoundError, PermissionDenied
from domain.review import (
    REVIEW_WINDOW,
    SIDES,
    BookingReviews,
    ReviewIndex,
    review_id_for,
    reviews_id_for,
)

PUBLISH_REVIEWS = "publish_reviews"  # the deadline kind: the review window closed


class Reviews:
    def __init__(self, store: EventStore, bookings: Bookings) -> None:
        self.store = store
        self.bookings = bookings

    # -- queries --------------------------------------------------------------------------

    def of_booking(self, booking_id: UUID) -> BookingReviews | None:
        try:
            reviews = self.store.load(reviews_id_for(booking_id), "reviews")
        except NotFoundError:
            return None
        return reviews if isinstance(reviews, BookingReviews) else None

    def find(self, review_id: UUID) -> tuple[BookingReviews, str]:
        """The reviews holding `review_id` and the side it is; 404 when there is none."""
        try:
            index = self.store.load(review_id, "review")
        except NotFoundError:
            index = None
        reviews = self.of_booking(index.booking_id) if isinstance(index, ReviewIndex) else None
        if reviews is None:
            raise NotFoundError("review_not_found", f"review {review_id} not found")
        return reviews, reviews.side_of_review(review_id)

    def get(self, actor: Actor | None, review_id: UUID) -> tuple[BookingReviews, str]:
        """A review its author, or (once published) anyone, may see; 404 otherwise."""
        reviews, side = self.find(review_id)
        if not reviews.visible_to(side, actor.id if actor else None, actor.role if actor else ""):
            raise NotFoundError("review_not_found", f"review {review_id} not found")
        return reviews, side

    def for_booking(self, actor: Actor, booking_id: UUID) -> dict[str, Any]:
        """The booking's review window and the reviews the caller may see (their own at
        once, the other side's once published); 404 for anyone but its parties and admins."""
        booking = self.bookings.get(booking_id, viewer=actor)
        reviews = self.of_booking(booking_id)
        opens = booking.returned_at
        return {
            "booking_id": booking_id,
            "window_opens_at": opens,
            "window_closes_at": opens + REVIEW_WINDOW if opens else None,
            "published_at": reviews.published_at if reviews else None,
            "reviews": [
                review_public(reviews, side)
                for side in SIDES
                if reviews and reviews.visible_to(side, actor.id, actor.role)
            ],
        }

    # -- parties --------------------------------------------------------------------------

    def submit(
        self,
        actor: Actor,
        booking_id: UUID,
        *,
        rating: int,
        comment: str,
        category_ratings: Mapping[str, int] | None,
        at: datetime,
    ) -> tuple[UUID, int]:
        """The renter (of the listing and its owner) or the owner (of the renter) reviews
        the booking after its stay, once; the second review publishes both."""

        def attempt() -> tuple[UUID, int]:
            booking = self.bookings.get(booking_id, viewer=actor)
            if actor.id not in (booking.renter_id, booking.owner_id):
                raise PermissionDenied("not_party", "only the renter and the owner review")
            reviews = self.of_booking(booking_id) or BookingReviews.open(
                booking_id=booking_id,
                listing_id=booking.listing_id,
                renter_id=booking.renter_id,
                owner_id=booking.owner_id,
                status=booking.status,
                returned_at=booking.returned_at,
            )
            side = reviews.submit(
                by=actor.id,
                rating=rating,
                comment=comment,
                category_ratings=dict(category_ratings or {}),
                at=at,
            )
            review_id = review_id_for(booking_id, side)
            index = ReviewIndex(review_id=review_id, booking_id=booking_id, side=side)
            return review_id, self.store.record(reviews, index)

        return retry_on_conflict(attempt)

    def reply(self, actor: Actor, review_id: UUID, text: str, at: datetime) -> int:
        """The listing's owner answers the renter's published review, once."""

        def attempt() -> int:
            reviews, _ = self.get(actor, review_id)
            reviews.reply(review_id, text, actor.id, at)
            return self.store.record(reviews)

        return retry_on_conflict(attempt)

    def hide(self, admin: Actor, review_id: UUID, reason: str, at: datetime) -> int:
        """An admin takes a published review out of the lists and the averages."""

        def attempt() -> int:
            reviews, _ = self.get(admin, review_id)
            reviews.hide(review_id, reason, admin.id, admin.role, at)
            return self.store.record(reviews)

        return retry_on_conflict(attempt)

    # -- the deadline ---------------------------------------------------------------------

    def publish_due(self, booking_id: UUID, at: datetime, *, if_version: int | None = None) -> int:
        """Publishes the booking's reviews once their window closed; a no-op (0) when they
        are published already or moved on since the deadline was read."""

        def attempt() -> int:
            reviews = self.of_booking(booking_id)
            if reviews is None or (if_version is not None and reviews.version != if_version):
                return 0
            due = reviews.publish_due
            if due is None or at < due:
                return 0
            reviews.publish(at)
            return self.store.record(reviews)

        return retry_on_conflict(attempt)


def deadline_handlers(
    store: EventStore, bookings: Bookings
) -> dict[str, Callable[[Deadline, datetime], int]]:
    """The scheduler's handler of the review deadline kind."""
    reviews = Reviews(store, bookings)

    def publish(deadline: Deadline, at: datetime) -> int:
        return reviews.publish_due(deadline.booking_id, at, if_version=deadline.booking_version)

    return {PUBLISH_REVIEWS: publish}


def review_public(reviews: BookingReviews, side: str) -> dict[str, Any]:
    """A review as the API shows it (to whoever may see it)."""
    r = reviews.reviews[side]
    status = "hidden" if r["hidden"] else "published" if reviews.is_published else "pending"
    return {
        "id": r["id"],
        "booking_id": reviews.booking_id,
        "listing_id": reviews.listing_id,
        "side": side,
        "reviewer_id": r["reviewer_id"],
        "reviewee_id": r["reviewee_id"],
        "rating": r["rating"],
        "comment": r["comment"],
        "category_ratings": dict(r["category_ratings"]),
        "status": status,
        "submitted_at": r["submitted_at"],
        "published_at": reviews.published_at,
        "reply": r["reply"],
        "replied_at": r["replied_at"],
        "hidden_reason": r["hidden_reason"],
    }
