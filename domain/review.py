"""Double-blind reviews of one booking: the renter's (of the listing and its owner) and the
owner's (of the renter), as one aggregate so "both are in" is one consistent decision.

- A side reviews once, after the stay (the booking returned: awaiting inspection, completed,
  settled or disputed) and before the window closes, 14 days after the booking returned.
- Nothing is visible until publication: the second submission publishes both in the same
  save; otherwise the window's close publishes what is in (a deadline, `publish_due`).
- After publication the owner may reply once to the renter's review (of their listing), and
  an admin may hide either review with a reason. Hidden reviews leave every average.
Every change records by, role and at; the aggregate never reads a clock.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain import booking as b
from domain.errors import ConflictError, NotFoundError, PermissionDenied, RuleViolation

RENTER, OWNER = "renter", "owner"
SIDES = (RENTER, OWNER)
REVIEW_WINDOW = timedelta(days=14)
REVIEWABLE = frozenset({b.AWAITING_RETURN_INSPECTION, b.COMPLETED, b.SETTLED, b.DISPUTED})
# What each side rates besides the overall rating: the renter rates the stay, the owner the guest.
CATEGORIES: dict[str, tuple[str, ...]] = {
    RENTER: ("cleanliness", "accuracy", "communication", "location", "check_in", "value"),
    OWNER: ("communication", "care", "rules"),
}
MAX_COMMENT = 5000
MAX_REPLY = 2000
MAX_REASON = 2000
_NAMESPACE = uuid5(NAMESPACE_URL, "https://rentbook.dev/reviews")


def reviews_id_for(booking_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"booking/{booking_id}")


def review_id_for(booking_id: UUID, side: str) -> UUID:
    return uuid5(_NAMESPACE, f"booking/{booking_id}/{side}")


def check_rating(value: Any, what: str = "rating") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise RuleViolation("bad_rating", f"{what} must be a whole number from 1 to 5")
    return value


def check_categories(side: str, ratings: dict[str, Any] | None) -> dict[str, int]:
    ratings = ratings or {}
    allowed = CATEGORIES[side]
    unknown = sorted(set(ratings) - set(allowed))
    if unknown:
        raise RuleViolation(
            "bad_category", f"the {side} rates {', '.join(allowed)}; not {', '.join(unknown)}"
        )
    return {name: check_rating(ratings[name], name) for name in sorted(ratings)}


def _text(value: Any, limit: int, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(f"{what}_required", f"a {what} is required")
    if len(value) > limit:
        raise RuleViolation(f"{what}_too_long", f"a {what} is at most {limit} characters")
    return value


def average(total: int, count: int) -> float:
    """An average of 1-5 ratings to two decimals (0.0 for none), rounded half up the same way
    on every path, so a rebuilt view equals the incremental one."""
    return math.floor(total * 100 / count + 0.5) / 100 if count else 0.0


class BookingReviews(Aggregate):
    @staticmethod
    def create_id(booking_id: UUID, **_: Any) -> UUID:
        return reviews_id_for(booking_id)

    @classmethod
    def open(
        cls,
        *,
        booking_id: UUID,
        listing_id: UUID,
        renter_id: UUID,
        owner_id: UUID,
        status: str,
        returned_at: datetime | None,
    ) -> BookingReviews:
        """The review window of a booking that is back from its stay."""
        if status not in REVIEWABLE or returned_at is None:
            raise RuleViolation(
                "not_reviewable", f"a booking that is {status} cannot be reviewed (yet)"
            )
        return cls(
            booking_id=booking_id,
            listing_id=listing_id,
            renter_id=renter_id,
            owner_id=owner_id,
            window_opens_at=returned_at,
            window_closes_at=returned_at + REVIEW_WINDOW,
        )

    @event("Opened")
    def __init__(
        self,
        booking_id: UUID,
        listing_id: UUID,
        renter_id: UUID,
        owner_id: UUID,
        window_opens_at: datetime,
        window_closes_at: datetime,
    ) -> None:
        self.booking_id, self.listing_id = booking_id, listing_id
        self.renter_id, self.owner_id = renter_id, owner_id
        self.window_opens_at, self.window_closes_at = window_opens_at, window_closes_at
        self.reviews: dict[str, dict[str, Any]] = {}  # side -> review
        self.published_at: datetime | None = None

    # -- queries ------------------------------------------------------------------------

    def side_of(self, user_id: UUID) -> str | None:
        return {self.renter_id: RENTER, self.owner_id: OWNER}.get(user_id)

    def side_of_review(self, review_id: UUID) -> str:
        for side in SIDES:
            if review_id_for(self.booking_id, side) == review_id and side in self.reviews:
                return side
        raise NotFoundError("review_not_found", f"review {review_id} not found")

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def publish_due(self) -> datetime | None:
        """When the window's close publishes what is in; None once published."""
        return None if self.is_published else self.window_closes_at

    def is_visible(self, side: str) -> bool:
        return self.is_published and side in self.reviews and not self.reviews[side]["hidden"]

    def visible_to(self, side: str, user_id: UUID | None, role: str) -> bool:
        """Its author sees a review at once; everyone else once it is published (admins
        also when hidden). Nobody sees the other side's review before publication."""
        review = self.reviews.get(side)
        if review is None:
            return False
        if user_id == review["reviewer_id"]:
            return True
        return self.is_published and (not review["hidden"] or role == "admin")

    # -- commands -----------------------------------------------------------------------

    def submit(
        self,
        *,
        by: UUID,
        rating: Any,
        comment: Any,
        category_ratings: dict[str, Any] | None,
        at: datetime,
    ) -> str:
        """Records the caller's review; publishes both when this is the second one.
        Returns the side the caller reviewed as."""
        side = self.side_of(by)
        if side is None:
            raise NotFoundError("booking_not_found", f"booking {self.booking_id} not found")
        if side in self.reviews:
            raise ConflictError("already_reviewed", f"the {side} has already reviewed")
        self.check_window(at)
        self._submitted(
            review_id=review_id_for(self.booking_id, side),
            booking_id=self.booking_id,
            listing_id=self.listing_id,
            side=side,
            reviewer_id=by,
            reviewee_id=self.owner_id if side == RENTER else self.renter_id,
            rating=check_rating(rating),
            comment=_text(comment, MAX_COMMENT, "comment"),
            category_ratings=check_categories(side, category_ratings),
            by=by,
            role=side,
            at=at,
        )
        if len(self.reviews) == len(SIDES):
            self._publish("both reviews are in", at)
        return side

    def check_window(self, at: datetime) -> None:
        if self.is_published or not self.window_opens_at <= at < self.window_closes_at:
            raise RuleViolation(
                "review_window_closed",
                "reviews are written within 14 days after the booking returned",
            )

    @event("Submitted")
    def _submitted(
        self,
        review_id: UUID,
        booking_id: UUID,
        listing_id: UUID,
        side: str,
        reviewer_id: UUID,
        reviewee_id: UUID,
        rating: int,
        comment: str,
        category_ratings: dict[str, int],
        by: UUID,
        role: str,
        at: datetime,
    ) -> None:
        self.reviews[side] = {
            "id": review_id,
            "side": side,
            "reviewer_id": reviewer_id,
            "reviewee_id": reviewee_id,
            "rating": rating,
            "comment": comment,
            "category_ratings": dict(category_ratings),
            "submitted_at": at,
            "hidden": False,
            "hidden_reason": None,
            "reply": None,
            "replied_at": None,
        }

    def publish(self, at: datetime) -> None:
        """The window closed: what is in becomes visible."""
        if self.is_published:
            raise ConflictError("already_published", "the reviews are already published")
        if at < self.window_closes_at:
            raise RuleViolation("not_due", "the review window is still open")
        self._publish("the review window closed", at)

    def _publish(self, reason: str, at: datetime) -> None:
        ratings = [
            {
                "review_id": r["id"],
                "side": r["side"],
                "reviewee_id": r["reviewee_id"],
                "rating": r["rating"],
                "category_ratings": r["category_ratings"],
            }
            for r in (self.reviews[s] for s in SIDES if s in self.reviews)
        ]
        self._published(self.listing_id, ratings, reason, at)

    @event("Published")
    def _published(
        self, listing_id: UUID, ratings: list[dict[str, Any]], reason: str, at: datetime
    ) -> None:
        self.published_at = at

    def reply(self, review_id: UUID, text: Any, by: UUID, at: datetime) -> None:
        """The owner answers the renter's (published, not hidden) review of their listing."""
        side = self._visible_side(review_id)
        if side != RENTER or by != self.owner_id:
            raise PermissionDenied("not_owner", "only the listing's owner replies to its reviews")
        if self.reviews[side]["reply"] is not None:
            raise ConflictError("already_replied", "the owner has already replied")
        self._replied(review_id, side, _text(text, MAX_REPLY, "reply"), by, at)

    @event("Replied")
    def _replied(self, review_id: UUID, side: str, text: str, by: UUID, at: datetime) -> None:
        self.reviews[side].update(reply=text, replied_at=at)

    def hide(self, review_id: UUID, reason: Any, by: UUID, role: str, at: datetime) -> None:
        if role != "admin":
            raise PermissionDenied("admin_required", "only an admin hides a review")
        side = self._visible_side(review_id, admin=True)
        if self.reviews[side]["hidden"]:
            raise ConflictError("already_hidden", "the review is already hidden")
        review = self.reviews[side]
        self._hidden(
            review_id=review_id,
            side=side,
            listing_id=self.listing_id,
            reviewee_id=review["reviewee_id"],
            rating=review["rating"],
            category_ratings=review["category_ratings"],
            reason=_text(reason, MAX_REASON, "reason"),
            by=by,
            role=role,
            at=at,
        )

    @event("Hidden")
    def _hidden(
        self,
        review_id: UUID,
        side: str,
        listing_id: UUID,
        reviewee_id: UUID,
        rating: int,
        category_ratings: dict[str, int],
        reason: str,
        by: UUID,
        role: str,
        at: datetime,
    ) -> None:
        self.reviews[side].update(hidden=True, hidden_reason=reason)

    def _visible_side(self, review_id: UUID, *, admin: bool = False) -> str:
        side = self.side_of_review(review_id)
        if not self.is_published:  # unpublished reviews are not there for anyone
            raise NotFoundError("review_not_found", f"review {review_id} not found")
        if self.reviews[side]["hidden"] and not admin:
            raise ConflictError("review_hidden", "the review is hidden")
        return side


class ReviewIndex(Aggregate):
    """Finds a review's booking from the review's id (saved with its first submission)."""

    @staticmethod
    def create_id(review_id: UUID, **_: Any) -> UUID:
        return review_id

    @event("Created")
    def __init__(self, review_id: UUID, booking_id: UUID, side: str) -> None:
        self.booking_id = booking_id
        self.side = side
