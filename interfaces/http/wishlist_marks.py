"""Marks search hits that are in the signed-in user's wishlists."""

from __future__ import annotations

from uuid import UUID

from infrastructure.bootstrap import Container
from interfaces.http.search_schemas import SearchResultsPublic
from projections.wishlists import wishlisted


def mark_wishlisted(container: Container, user_id: UUID, results: SearchResultsPublic) -> None:
    """One indexed query, (user, listing) over the page's ids, whatever the page size."""
    ids = {UUID(hit.id) for hit in results.data}
    if not ids:
        return
    with container.views.connect() as conn:
        found = wishlisted(conn, container.runner.tables("wishlists"), user_id, ids)
    for hit in results.data:
        hit.in_wishlist = UUID(hit.id) in found
