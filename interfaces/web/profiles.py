"""A user's public profile page (/users/{id}): what `GET /api/v1/users/{id}` shows — name,
bio, languages, member since, verified email, how the owner answers, and the reviews received
with their per-category averages — read from the same views. 404 for unknown and suspended
users, as the API."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from domain.errors import NotFoundError
from interfaces.web.routing import PageRoute
from interfaces.web.session import VisitorDep
from interfaces.web.templating import render
from projections.profiles import read_profile
from projections.reviews import user_review_summary

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/users/{user_id}", response_class=HTMLResponse)
def profile(request: Request, user_id: UUID, visitor: VisitorDep) -> Response:
    container = visitor.container
    with container.views.connect() as conn:
        row = read_profile(conn, container.runner.tables("profiles"), user_id, visitor.now)
        reviews = user_review_summary(conn, container.runner.tables("reviews"), user_id)
    if row is None:
        raise NotFoundError("user_not_found", f"user {user_id} not found")
    return render(request, "profile.html", {"profile": row, "reviews": reviews})
