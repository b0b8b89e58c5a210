"""Marks search hits that are in the signed-in user's wishlists."""

from __future__ import annotations

from uuid import UUID

from application.search_queries import SearchPage
from infrastructure.bootstrap import Container
from projections.wishlists import wishlisted


def wishlisted_hits(container: Container, user_id: UUID, page: SearchPage) -> set[str]:
    """The ids of the page's hits in the user's wishlists: one indexed query, (user,
    listing) over the page's ids, whatever the page size."""
    spelled = {UUID(hit.id): hit.id for hit in page.hits}
    if not spelled:
        return set()
    with container.views.connect() as conn:
        found = wishlisted(conn, container.runner.tables("wishlists"), user_id, set(spelled))
    return {spelled[listing_id] for listing_id in found}
