"""Wishlist: a user's named list of listings, optionally shared read-only by a link.

The share link's token is derived from the wishlist id and a share `generation` (see
`application/wishlists.py`), so no secret is ever stored in the log: rotating bumps the
generation (every older link stops working), revoking turns the link off.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, NotFoundError, RuleViolation

MAX_NAME = 100
MAX_LISTINGS = 500


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise RuleViolation("name_required", "a wishlist needs a name")
    name = name.strip()
    if len(name) > MAX_NAME:
        raise RuleViolation("name_too_long", f"a wishlist name is at most {MAX_NAME} characters")
    return name


class Wishlist(Aggregate):
    @event("Created")
    def __init__(self, owner_id: UUID, name: str, at: datetime) -> None:
        self.owner_id = owner_id
        self.name = name
        self.created_at = at
        self.listings: dict[str, str] = {}  # listing id -> added at (ISO), in order added
        # Counts up with every new link and never goes back, so a revoked or rotated link
        # can never work again; `shared` says whether the current generation's link works.
        self.share_generation = 0
        self.shared = False
        self.deleted = False

    @classmethod
    def create(cls, owner_id: UUID, name: str, at: datetime) -> Wishlist:
        return cls(owner_id=owner_id, name=check_name(name), at=at)

    # -- guards ---------------------------------------------------------------------------

    def check_owner(self, user_id: UUID) -> None:
        # 404, not 403: another user's wishlist is private and ids must not be probeable.
        if self.deleted or user_id != self.owner_id:
            raise NotFoundError("wishlist_not_found", f"wishlist {self.id} not found")

    def check_live(self) -> None:
        if self.deleted:
            raise NotFoundError("wishlist_not_found", f"wishlist {self.id} not found")

    # -- commands -------------------------------------------------------------------------

    def rename(self, name: str, at: datetime) -> None:
        self.check_live()
        name = check_name(name)
        if name != self.name:
            self._renamed(name, at)

    @event("Renamed")
    def _renamed(self, name: str, at: datetime) -> None:
        self.name = name

    def add_listing(self, listing_id: UUID, at: datetime) -> None:
        """Idempotent: adding a listing already there records nothing."""
        self.check_live()
        if str(listing_id) in self.listings:
            return
        if len(self.listings) >= MAX_LISTINGS:
            raise ConflictError("wishlist_full", f"a wishlist holds at most {MAX_LISTINGS}")
        self._listing_added(listing_id, at)

    @event("ListingAdded")
    def _listing_added(self, listing_id: UUID, at: datetime) -> None:
        self.listings[str(listing_id)] = at.isoformat()

    def remove_listing(self, listing_id: UUID, at: datetime) -> None:
        """Idempotent: removing a listing that is not there records nothing."""
        self.check_live()
        if str(listing_id) in self.listings:
            self._listing_removed(listing_id, at)

    @event("ListingRemoved")
    def _listing_removed(self, listing_id: UUID, at: datetime) -> None:
        del self.listings[str(listing_id)]

    def share(self, at: datetime) -> int:
        """A new share generation: the new link works, every older one stops."""
        self.check_live()
        self._shared(self.share_generation + 1, at)
        return self.share_generation

    @event("Shared")
    def _shared(self, generation: int, at: datetime) -> None:
        self.share_generation = generation
        self.shared = True

    def unshare(self, at: datetime) -> None:
        """Idempotent: revoking an unshared wishlist records nothing."""
        self.check_live()
        if self.shared:
            self._unshared(at)

    @event("Unshared")
    def _unshared(self, at: datetime) -> None:
        self.shared = False

    def delete(self, at: datetime) -> None:
        self.check_live()
        self._deleted(at)

    @event("Deleted")
    def _deleted(self, at: datetime) -> None:
        self.deleted = True
        self.shared = False
