"""Listing endpoints: catalog, review, calendar, blocks, per-date prices and quotes."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from application.listing_defaults import with_default_timezone
from interfaces.http.deps import (
    AdminDep,
    CommandDep,
    ContainerDep,
    Now,
    OptionalPrincipalDep,
    actor_of,
)
from interfaces.http.etag import IfMatchDep, check_version, set_etag
from interfaces.http.listing_schemas import (
    BlockCreate,
    BlockPublic,
    CalendarDay,
    ListingCreate,
    ListingPublic,
    ListingUpdate,
    PriceIn,
    QuoteRequest,
    ReasonIn,
)
from interfaces.http.pagination import PageParamsDep
from interfaces.http.positions import min_position, set_position
from interfaces.http.reviews import with_rating
from interfaces.http.schemas_common import Page
from projections.availability_calendar import calendar_range
from projections.listings import list_owner_listings

router = APIRouter(tags=["listings"])


def _respond(
    command: CommandDep, response: Response, listing_id: UUID, position: int
) -> ListingPublic:
    listing = command.container.listings.get(listing_id, viewer=command.actor)
    set_position(response, position)
    set_etag(response, listing.version)
    return with_rating(command.container, ListingPublic.of(listing))


@router.post("/listings", status_code=status.HTTP_201_CREATED, response_model=ListingPublic)
def create_listing(body: ListingCreate, command: CommandDep, response: Response) -> ListingPublic:
    """Creates a listing in `draft`; the caller becomes an owner."""
    data = with_default_timezone(body.model_dump(mode="json"), command.container.places)
    with command.context():
        listing_id, position = command.container.listings.create(command.actor, data, command.now)
    response.headers["Location"] = f"/api/v1/listings/{listing_id}"
    return _respond(command, response, listing_id, position)


@router.patch("/listings/{listing_id}", response_model=ListingPublic)
def update_listing(
    listing_id: UUID,
    body: ListingUpdate,
    command: CommandDep,
    response: Response,
    if_match: IfMatchDep,
) -> ListingPublic:
    """Edits a listing (owner). Send `If-Match: "<version>"` to refuse lost updates (412)."""
    listings = command.container.listings
    check_version(if_match, listings.get(listing_id, viewer=command.actor).version)
    changes = body.model_dump(mode="json", exclude_unset=True)
    with command.context():
        position = listings.update(
            command.actor, listing_id, changes, command.now, if_version=if_match
        )
    return _respond(command, response, listing_id, position)


def _transition(action: str) -> Any:
    def endpoint(listing_id: UUID, command: CommandDep, response: Response) -> ListingPublic:
        with command.context():
            position = getattr(command.container.listings, action)(
                command.actor, listing_id, command.now
            )
        return _respond(command, response, listing_id, position)

    return endpoint


router.add_api_route(
    "/listings/{listing_id}/submit",
    _transition("submit"),
    methods=["POST"],
    response_model=ListingPublic,
    summary="Submit for review",
    description="Sends a draft (or rejected) listing to the admins for review.",
)
router.add_api_route(
    "/listings/{listing_id}/deactivate",
    _transition("deactivate"),
    methods=["POST"],
    response_model=ListingPublic,
    summary="Deactivate",
    description="Hides an active listing from search and booking; bookings already made stay.",
)
router.add_api_route(
    "/listings/{listing_id}/activate",
    _transition("activate"),
    methods=["POST"],
    response_model=ListingPublic,
    summary="Activate",
    description="Re-opens an inactive listing.",
)


@router.post("/admin/listings/{listing_id}/approve", response_model=ListingPublic)
def approve_listing(
    listing_id: UUID, command: CommandDep, response: Response, _admin: AdminDep
) -> ListingPublic:
    """Publishes a listing pending review (admin)."""
    with command.context():
        position = command.container.listings.approve(command.actor, listing_id, command.now)
    return _respond(command, response, listing_id, position)


@router.post("/admin/listings/{listing_id}/reject", response_model=ListingPublic)
def reject_listing(
    listing_id: UUID, body: ReasonIn, command: CommandDep, response: Response, _admin: AdminDep
) -> ListingPublic:
    """Rejects a listing pending review with a reason the owner sees (admin)."""
    with command.context():
        position = command.container.listings.reject(
            command.actor, listing_id, body.reason, command.now
        )
    return _respond(command, response, listing_id, position)


@router.post(
    "/listings/{listing_id}/blocks", status_code=status.HTTP_201_CREATED, response_model=BlockPublic
)
def add_block(
    listing_id: UUID, body: BlockCreate, command: CommandDep, response: Response
) -> BlockPublic:
    """Blocks every unit for a period (owner); 409 when bookings exist in it."""
    with command.context():
        block_id, position = command.container.listings.add_block(
            command.actor, listing_id, body.start, body.end, body.reason, command.now
        )
    set_position(response, position)
    return BlockPublic(
        id=block_id, listing_id=listing_id, start=body.start, end=body.end, reason=body.reason
    )


@router.delete("/listings/{listing_id}/blocks/{block_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_block(listing_id: UUID, block_id: UUID, command: CommandDep, response: Response) -> None:
    """Removes a block (owner)."""
    with command.context():
        position = command.container.listings.remove_block(
            command.actor, listing_id, block_id, command.now
        )
    set_position(response, position)


@router.put("/listings/{listing_id}/prices/{day}", response_model=ListingPublic)
def set_price(
    listing_id: UUID, day: date, body: PriceIn, command: CommandDep, response: Response
) -> ListingPublic:
    """Overrides the base price of one night/day (for hourly listings: every slot that day)."""
    with command.context():
        position = command.container.listings.set_price(
            command.actor, listing_id, day, body.amount, command.now
        )
    return _respond(command, response, listing_id, position)


@router.delete("/listings/{listing_id}/prices/{day}", response_model=ListingPublic)
def clear_price(
    listing_id: UUID, day: date, command: CommandDep, response: Response
) -> ListingPublic:
    """Clears a per-date price override."""
    with command.context():
        position = command.container.listings.clear_price(
            command.actor, listing_id, day, command.now
        )
    return _respond(command, response, listing_id, position)


@router.get(
    "/listings/{listing_id}",
    response_model=ListingPublic,
    dependencies=[Depends(min_position("reviews"))],
)
def get_listing(
    listing_id: UUID, container: ContainerDep, principal: OptionalPrincipalDep, response: Response
) -> ListingPublic:
    """A listing: public when active; its owner and admins see it in any status. Its
    `rating`, `review_count` and `category_ratings` come from the published reviews."""
    viewer = actor_of(principal) if principal else None
    listing = container.listings.get(listing_id, viewer=viewer)
    set_etag(response, listing.version)
    return with_rating(container, ListingPublic.of(listing))


@router.get(
    "/me/listings",
    response_model=Page[dict[str, Any]],
    dependencies=[Depends(min_position("listings"))],
)
def my_listings(command: CommandDep, page: PageParamsDep) -> Page[dict[str, Any]]:
    """The caller's listings, newest first."""
    container = command.container
    with container.views.connect() as conn:
        rows, next_cursor = list_owner_listings(
            conn, container.runner.tables("listings"), command.actor.id, page.limit, page.cursor
        )
    return Page[dict[str, Any]](data=rows, next_cursor=next_cursor)


@router.get(
    "/listings/{listing_id}/calendar",
    response_model=list[CalendarDay],
    dependencies=[Depends(min_position("availability"))],
)
def listing_calendar(
    listing_id: UUID,
    container: ContainerDep,
    principal: OptionalPrincipalDep,
    now: Now,
    frm: date = Query(alias="from", description="First local date (inclusive)"),
    to: date = Query(description="Last local date (exclusive); at most a year after from"),
) -> list[dict[str, Any]]:
    """Per night/day (or hourly slot) in the range: free units and one unit's price."""
    container.listings.get(listing_id, viewer=actor_of(principal) if principal else None)
    with container.views.connect() as conn:
        return calendar_range(
            conn, container.runner.tables("availability"), listing_id, frm, to, at=now
        )


@router.post("/listings/{listing_id}/quote")
def quote_listing(
    listing_id: UUID,
    body: QuoteRequest,
    container: ContainerDep,
    principal: OptionalPrincipalDep,
    now: Now,
) -> dict[str, Any]:
    """Line items, total, fees and the cancellation schedule; 422 with the reason when
    the period cannot be booked."""
    viewer = actor_of(principal) if principal else None
    return container.listings.quote(
        listing_id,
        start=body.start,
        end=body.end,
        quantity=body.quantity,
        guests=body.guests,
        at=now,
        viewer=viewer,
        coupon_code=body.coupon_code,
    )
