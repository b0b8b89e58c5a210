"""Review endpoints: the parties review a finished booking (double-blind), the owner
replies, admins hide; the published reviews of a listing or a user."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from application.reviews import review_public
from domain.errors import NotFoundError
from domain.user import User
from infrastructure.bootstrap import Container
from interfaces.http.deps import (
    ActorDep,
    AdminDep,
    CommandDep,
    ContainerDep,
    OptionalPrincipalDep,
    actor_of,
)
from interfaces.http.etag import set_etag
from interfaces.http.listing_schemas import ListingPublic
from interfaces.http.pagination import PageParamsDep
from interfaces.http.positions import min_position, set_position
from interfaces.http.review_schemas import (
    BookingReviewsPublic,
    HideRequest,
    ReplyCreate,
    ReviewCreate,
    ReviewPublic,
)
from interfaces.http.schemas_common import Page, problem_responses
from projections.reviews import list_reviews, listing_rating

router = APIRouter(tags=["reviews"], responses=problem_responses(401, 403, 404, 409, 422))


def _respond(
    command: CommandDep, response: Response, review_id: UUID, position: int
) -> ReviewPublic:
    reviews, side = command.container.reviews.get(command.actor, review_id)
    set_position(response, position)
    set_etag(response, reviews.version)
    return ReviewPublic.of(review_public(reviews, side))


@router.post(
    "/bookings/{booking_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewPublic,
)
def submit_review(
    booking_id: UUID, body: ReviewCreate, command: CommandDep, response: Response
) -> ReviewPublic:
    """The booking's renter reviews the listing and its owner, or its owner reviews the
    renter: once each (409 `already_reviewed`), after the stay (checked out or ended) and
    within 14 days of it (422 `not_reviewable` / `review_window_closed`). Double-blind: the
    review stays `pending`, seen only by its author, until the other side's review is in
    (both are published together at once) or the window closes (what is in is published
    then). 404 for anyone else's booking."""
    with command.context():
        review_id, position = command.container.reviews.submit(
            command.actor,
            booking_id,
            rating=body.rating,
            comment=body.comment,
            category_ratings={str(k): v for k, v in (body.category_ratings or {}).items()},
            at=command.now,
        )
    response.headers["Location"] = f"/api/v1/reviews/{review_id}"
    return _respond(command, response, review_id, position)


@router.get("/bookings/{booking_id}/reviews", response_model=BookingReviewsPublic)
def booking_reviews(
    booking_id: UUID, actor: ActorDep, container: ContainerDep
) -> BookingReviewsPublic:
    """The booking's review window and the reviews the caller may read: their own at once,
    the other side's only once both are published. For the renter, the owner and admins."""
    return BookingReviewsPublic.model_validate(container.reviews.for_booking(actor, booking_id))


@router.get("/reviews/{review_id}", response_model=ReviewPublic)
def get_review(
    review_id: UUID, container: ContainerDep, principal: OptionalPrincipalDep, response: Response
) -> ReviewPublic:
    """A review: public once published and not hidden; its author sees it while pending,
    admins also when hidden; 404 otherwise."""
    actor = actor_of(principal) if principal else None
    reviews, side = container.reviews.get(actor, review_id)
    set_etag(response, reviews.version)
    return ReviewPublic.of(review_public(reviews, side))


@router.post("/reviews/{review_id}/reply", response_model=ReviewPublic)
def reply_to_review(
    review_id: UUID, body: ReplyCreate, command: CommandDep, response: Response
) -> ReviewPublic:
    """The listing's owner answers a published review of the listing, publicly and once
    (409 `already_replied`; 403 for anyone else)."""
    with command.context():
        position = command.container.reviews.reply(command.actor, review_id, body.text, command.now)
    return _respond(command, response, review_id, position)


@router.post("/admin/reviews/{review_id}/hide", response_model=ReviewPublic)
def hide_review(
    review_id: UUID,
    body: HideRequest,
    _admin: AdminDep,
    command: CommandDep,
    response: Response,
) -> ReviewPublic:
    """Hides a published review with a reason (admin): it leaves the lists and every
    average; the event stays in the review's history."""
    with command.context():
        position = command.container.reviews.hide(
            command.actor, review_id, body.reason, command.now
        )
    return _respond(command, response, review_id, position)


@router.get(
    "/listings/{listing_id}/reviews",
    response_model=Page[ReviewPublic],
    dependencies=[Depends(min_position("reviews"))],
)
def listing_reviews(
    listing_id: UUID,
    container: ContainerDep,
    principal: OptionalPrincipalDep,
    page: PageParamsDep,
) -> Page[ReviewPublic]:
    """The listing's published reviews (by its renters), newest first; as public as the
    listing."""
    container.listings.get(listing_id, viewer=actor_of(principal) if principal else None)
    with container.views.connect() as conn:
        rows, next_cursor = list_reviews(
            conn,
            container.runner.tables("reviews"),
            listing_id=listing_id,
            limit=page.limit,
            cursor=page.cursor,
        )
    return Page[ReviewPublic](data=[ReviewPublic.of(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/users/{user_id}/reviews",
    response_model=Page[ReviewPublic],
    dependencies=[Depends(min_position("reviews"))],
)
def user_reviews(user_id: UUID, container: ContainerDep, page: PageParamsDep) -> Page[ReviewPublic]:
    """The published reviews a user received, as renter (from owners) and as owner (from
    renters), newest first."""
    try:
        user = container.store.load(user_id, "user")
    except NotFoundError:
        user = None
    if not isinstance(user, User):
        raise NotFoundError("user_not_found", f"user {user_id} not found")
    with container.views.connect() as conn:
        rows, next_cursor = list_reviews(
            conn,
            container.runner.tables("reviews"),
            reviewee_id=user_id,
            limit=page.limit,
            cursor=page.cursor,
        )
    return Page[ReviewPublic](data=[ReviewPublic.of(r) for r in rows], next_cursor=next_cursor)


def with_rating(container: Container, listing: ListingPublic) -> ListingPublic:
    """The listing with its rating, review count and category averages from the reviews
    view."""
    with container.views.connect() as conn:
        summary = listing_rating(conn, container.runner.tables("reviews"), listing.id)
    return listing.model_copy(
        update={
            "rating": summary["average"],
            "review_count": summary["count"],
            "category_ratings": summary["categories"],
        }
    )
