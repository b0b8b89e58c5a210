"""Wishlists: the heart on search results and listing pages (htmx), my wishlists, one
wishlist with its share link, and the read-only shared page anyone with the link opens.
The same use cases and views as `/api/v1/me/wishlists` (404 for another user's list).

The heart saves to the visitor's newest wishlist (making "Saved" when they have none) and,
when the listing is already saved, takes it out of every list of theirs holding it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.context import Actor, command_context
from domain.errors import DomainError, NotFoundError
from interfaces.web.routing import PageRoute
from interfaces.web.session import FormDep, Visitor, VisitorDep
from interfaces.web.templating import render
from projections.wishlists import (
    get_wishlist_row,
    list_user_wishlists,
    listing_summaries,
    wishlisted,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DEFAULT_NAME = "Saved"


def saved_ids(visitor: Visitor, listing_ids: list[Any]) -> set[str]:
    """Which of these listings are in the visitor's wishlists (none when signed out)."""
    if visitor.principal is None or not listing_ids:
        return set()
    container = visitor.container
    with container.views.connect() as conn:
        found = wishlisted(
            conn,
            container.runner.tables("wishlists"),
            visitor.principal.user_id,
            {UUID(str(i)) for i in listing_ids},
        )
    return {str(i) for i in found}


def _rows(visitor: Visitor, actor: Actor) -> list[dict[str, Any]]:
    container = visitor.container
    with container.views.connect() as conn:
        rows, _ = list_user_wishlists(
            conn, container.runner.tables("wishlists"), actor.id, 100, None
        )
    return rows


def _summaries(visitor: Visitor, listing_ids: list[str]) -> dict[str, dict[str, Any]]:
    container = visitor.container
    with container.views.connect() as conn:
        found = listing_summaries(
            conn, container.runner.tables("listings"), [UUID(i) for i in listing_ids]
        )
    return {str(k): v for k, v in found.items()}


@router.post("/listings/{listing_id}/save", response_class=HTMLResponse)
def toggle_saved(
    request: Request, listing_id: UUID, visitor: VisitorDep, form: FormDep
) -> Response:
    actor = visitor.require()
    wishlists = visitor.container.wishlists
    holding = [
        r for r in _rows(visitor, actor) if any(lid == str(listing_id) for lid, _ in r["listings"])
    ]
    position = 0
    with command_context(actor, request_id=visitor.request_id):
        if holding:
            for row in holding:
                position = wishlists.remove_listing(actor, row["id"], listing_id, visitor.now)
        else:
            rows = _rows(visitor, actor)
            if rows:
                target = rows[0]["id"]
            else:
                target, position = wishlists.create(actor, DEFAULT_NAME, visitor.now)
                visitor.read_your_writes(position, "wishlists")
            position = wishlists.add_listing(actor, target, listing_id, visitor.now)
    visitor.read_your_writes(position, "wishlists")
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/listings/{listing_id}", status_code=303)
    title = form.get("title", "")[:200]
    context = {"listing_id": str(listing_id), "saved": not holding, "title": title}
    return render(request, "_heart.html", context)


@router.get("/wishlists", response_class=HTMLResponse)
def my_wishlists(request: Request, visitor: VisitorDep) -> Response:
    actor = visitor.require()
    rows = _rows(visitor, actor)
    ids = [lid for r in rows for lid, _ in r["listings"]]
    context = {"wishlists": rows, "summaries": _summaries(visitor, ids), "error": "", "name": ""}
    return render(request, "wishlists.html", context)


@router.post("/wishlists", response_class=HTMLResponse)
def create_wishlist(request: Request, visitor: VisitorDep, form: FormDep) -> Response:
    actor = visitor.require()
    name = form.get("name", "")
    try:
        with command_context(actor, request_id=visitor.request_id):
            wishlist_id, position = visitor.container.wishlists.create(actor, name, visitor.now)
    except DomainError as problem:
        rows = _rows(visitor, actor)
        ids = [lid for r in rows for lid, _ in r["listings"]]
        context = {"wishlists": rows, "summaries": _summaries(visitor, ids)}
        context |= {"error": problem.detail, "name": name}
        return render(request, "wishlists.html", context, status_code=422)
    visitor.read_your_writes(position, "wishlists")
    return RedirectResponse(f"/wishlists/{wishlist_id}", status_code=303)


@router.get("/wishlists/shared/{token}", response_class=HTMLResponse)
def shared(request: Request, token: str, visitor: VisitorDep) -> Response:
    """Read-only, without signing in; 404 for a revoked, rotated or unknown link."""
    container = visitor.container
    wishlists = container.wishlists
    wishlist_id = wishlists.shared_subject(token[:500])
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
    summaries = _summaries(visitor, [lid for lid, _ in row["listings"]])
    items = [
        s for lid, _ in row["listings"] if (s := summaries.get(lid)) and s["status"] == "active"
    ]
    return render(request, "wishlist_shared.html", {"name": row["name"], "items": items})


@router.get("/wishlists/{wishlist_id}", response_class=HTMLResponse)
def wishlist_page(request: Request, wishlist_id: UUID, visitor: VisitorDep) -> Response:
    actor = visitor.require()
    wishlist = visitor.container.wishlists.get(actor, wishlist_id)  # 404 unless yours
    summaries = _summaries(visitor, list(wishlist.listings))
    items = [summaries[lid] for lid in wishlist.listings if lid in summaries]
    token = visitor.container.wishlists.share_token(wishlist)
    share_url = f"{request.base_url}wishlists/shared/{token}" if token else ""
    context = {"wishlist": wishlist, "items": items, "share_url": share_url}
    return render(request, "wishlist.html", context)


@router.post("/wishlists/{wishlist_id}/remove", response_class=HTMLResponse)
def remove(request: Request, wishlist_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    actor = visitor.require()
    try:
        listing_id = UUID(form.get("listing_id", ""))
    except ValueError:
        raise NotFoundError("listing_not_found", "no such listing") from None
    with command_context(actor, request_id=visitor.request_id):
        position = visitor.container.wishlists.remove_listing(
            actor, wishlist_id, listing_id, visitor.now
        )
    visitor.read_your_writes(position, "wishlists")
    return RedirectResponse(f"/wishlists/{wishlist_id}", status_code=303)


@router.post("/wishlists/{wishlist_id}/share", response_class=HTMLResponse)
def share(request: Request, wishlist_id: UUID, visitor: VisitorDep, form: FormDep) -> Response:
    """`action=share` makes a new link (the old one stops working); `unshare` revokes it."""
    actor = visitor.require()
    wishlists = visitor.container.wishlists
    with command_context(actor, request_id=visitor.request_id):
        if form.get("action") == "unshare":
            position = wishlists.unshare(actor, wishlist_id, visitor.now)
        else:
            position = wishlists.share(actor, wishlist_id, visitor.now)
    visitor.read_your_writes(position, "wishlists")
    return RedirectResponse(f"/wishlists/{wishlist_id}", status_code=303)
