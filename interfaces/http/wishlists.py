"""Wishlist endpoints: a signed-in user's named lists of listings, and a read-only share
link that works without signing in."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from domain.errors import NotFoundError
from domain.wishlist import Wishlist
from infrastructure.bootstrap import Container
from interfaces.http.deps import ActorDep, CommandDep, ContainerDep
from interfaces.http.etag import IfMatchDep, check_version, set_etag
from interfaces.http.pagination import PageParamsDep
from interfaces.http.positions import min_position, set_position
from interfaces.http.schemas_common import Ack, Page, problem_responses
from interfaces.http.wishlist_schemas import (
    SharedWishlistPublic,
    WishlistCreate,
    WishlistItemPublic,
    WishlistPublic,
    WishlistUpdate,
)
from projections.listings import parse_instant
from projections.wishlists import get_wishlist_row, list_user_wishlists, listing_summaries

router = APIRouter(tags=["wishlists"], responses=problem_responses(401, 404, 422))
SHARED_PATH = "/api/v1/wishlists/shared/"


def _items(
    container: Container, listings: list[tuple[str, Any]], *, active_only: bool = False
) -> list[dict[str, Any]]:
    with container.views.connect() as conn:
        summaries = listing_summaries(
            conn, container.runner.tables("listings"), [UUID(lid) for lid, _ in listings]
        )
    items = []
    for lid, added_at in listings:
        summary = summaries.get(UUID(lid))
        if active_only and (summary is None or summary["status"] != "active"):
            continue
        items.append({"listing_id": lid, "added_at": parse_instant(added_at), "listing": summary})
    return items


def _public(container: Container, fields: dict[str, Any], token: str | None) -> WishlistPublic:
    return WishlistPublic.of(
        {
            **fields,
            "listings": _items(container, fields["listings"]),
            "shared": token is not None,
            "share_token": token,
            "share_path": SHARED_PATH + token if token else None,
        }
    )


def _of_aggregate(container: Container, wishlist: Wishlist) -> WishlistPublic:
    fields = {
        "id": wishlist.id,
        "name": wishlist.name,
        "created_at": wishlist.created_at,
        "updated_at": wishlist.modified_on,
        "listings": list(wishlist.listings.items()),
    }
    return _public(container, fields, container.wishlists.share_token(wishlist))


def _respond(command: CommandDep, response: Response, wishlist_id: UUID, position: int) -> Any:
    wishlist = command.container.wishlists.get(command.actor, wishlist_id)
    set_position(response, position)
    set_etag(response, wishlist.version)
    return _of_aggregate(command.container, wishlist)


@router.post("/me/wishlists", status_code=status.HTTP_201_CREATED, response_model=WishlistPublic)
def create_wishlist(body: WishlistCreate, command: CommandDep, response: Response) -> Any:
    """Creates an empty wishlist for the signed-in user."""
    with command.context():
        wishlist_id, position = command.container.wishlists.create(
            command.actor, body.name, command.now
        )
    response.headers["Location"] = f"/api/v1/me/wishlists/{wishlist_id}"
    return _respond(command, response, wishlist_id, position)


@router.get(
    "/me/wishlists",
    response_model=Page[WishlistPublic],
    dependencies=[Depends(min_position("wishlists", "listings"))],
)
def my_wishlists(actor: ActorDep, container: ContainerDep, page: PageParamsDep) -> Any:
    """The signed-in user's wishlists, newest first, each with its listings' summaries
    (title, place, price, status, cover thumbnail) in the order they were added."""
    with container.views.connect() as conn:
        rows, next_cursor = list_user_wishlists(
            conn, container.runner.tables("wishlists"), actor.id, page.limit, page.cursor
        )
    data = []
    for row in rows:
        token = container.wishlists.token_for(row["id"], row["share_generation"])
        data.append(_public(container, row, token if row["shared"] else None))
    return Page[WishlistPublic](data=data, next_cursor=next_cursor)


@router.get("/me/wishlists/{wishlist_id}", response_model=WishlistPublic)
def get_wishlist(
    wishlist_id: UUID, actor: ActorDep, container: ContainerDep, response: Response
) -> Any:
    """One of the caller's wishlists (404 for anyone else's)."""
    wishlist = container.wishlists.get(actor, wishlist_id)
    set_etag(response, wishlist.version)
    return _of_aggregate(container, wishlist)


@router.patch(
    "/me/wishlists/{wishlist_id}", response_model=WishlistPublic, responses=problem_responses(412)
)
def rename_wishlist(
    wishlist_id: UUID,
    body: WishlistUpdate,
    command: CommandDep,
    if_match: IfMatchDep,
    response: Response,
) -> Any:
    """Renames a wishlist (`If-Match` with its ETag: 412 when it changed meanwhile)."""
    check_version(if_match, command.container.wishlists.get(command.actor, wishlist_id).version)
    with command.context():
        position = command.container.wishlists.rename(
            command.actor, wishlist_id, body.name, command.now
        )
    return _respond(command, response, wishlist_id, position)


@router.delete("/me/wishlists/{wishlist_id}", response_model=Ack)
def delete_wishlist(wishlist_id: UUID, command: CommandDep, response: Response) -> Ack:
    """Deletes a wishlist; its share link stops working."""
    with command.context():
        position = command.container.wishlists.delete(command.actor, wishlist_id, command.now)
    set_position(response, position)
    return Ack(id=wishlist_id, status="deleted")


@router.put("/me/wishlists/{wishlist_id}/listings/{listing_id}", response_model=WishlistPublic)
def add_to_wishlist(
    wishlist_id: UUID, listing_id: UUID, command: CommandDep, response: Response
) -> Any:
    """Adds a listing (active, or the caller's own) to the wishlist; adding it again
    changes nothing. 409 `wishlist_full` past 500 listings."""
    with command.context():
        position = command.container.wishlists.add_listing(
            command.actor, wishlist_id, listing_id, command.now
        )
    return _respond(command, response, wishlist_id, position)


@router.delete("/me/wishlists/{wishlist_id}/listings/{listing_id}", response_model=WishlistPublic)
def remove_from_wishlist(
    wishlist_id: UUID, listing_id: UUID, command: CommandDep, response: Response
) -> Any:
    """Takes a listing out of the wishlist; a listing that is not in it changes nothing."""
    with command.context():
        position = command.container.wishlists.remove_listing(
            command.actor, wishlist_id, listing_id, command.now
        )
    return _respond(command, response, wishlist_id, position)


@router.post("/me/wishlists/{wishlist_id}/share", response_model=WishlistPublic)
def share_wishlist(wishlist_id: UUID, command: CommandDep, response: Response) -> Any:
    """Makes a new read-only share link (`share_path`); the previous link, if any, stops
    working (rotation)."""
    with command.context():
        position = command.container.wishlists.share(command.actor, wishlist_id, command.now)
    return _respond(command, response, wishlist_id, position)


@router.delete("/me/wishlists/{wishlist_id}/share", response_model=WishlistPublic)
def unshare_wishlist(wishlist_id: UUID, command: CommandDep, response: Response) -> Any:
    """Revokes the share link."""
    with command.context():
        position = command.container.wishlists.unshare(command.actor, wishlist_id, command.now)
    return _respond(command, response, wishlist_id, position)


@router.get(
    "/wishlists/shared/{token}",
    response_model=SharedWishlistPublic,
    dependencies=[Depends(min_position("wishlists", "listings"))],
)
def shared_wishlist(token: str, container: ContainerDep, response: Response) -> Any:
    """A shared wishlist, read-only, without signing in: its name and active listings.
    404 for a revoked, rotated or unknown link."""
    wishlists = container.wishlists
    wishlist_id = wishlists.shared_subject(token)
    row = None
    if wishlist_id is not None:
        with container.views.connect() as conn:
            row = get_wishlist_row(conn, container.runner.tables("wishlists"), wishlist_id)
    if (
        wishlist_id is None
        or row is None
        or not row["shared"]
        or not wishlists.verify_share(token, wishlist_id, row["share_generation"])
    ):
        raise NotFoundError("wishlist_not_found", "no wishlist is shared by that link")
    response.headers["Cache-Control"] = "private, max-age=60"
    return SharedWishlistPublic(
        id=row["id"],
        name=row["name"],
        listings=[
            WishlistItemPublic.model_validate(item)
            for item in _items(container, row["listings"], active_only=True)
        ],
    )
