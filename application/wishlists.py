"""Wishlist use cases: a user's named lists of listings and their read-only share links."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.context import Actor
from application.link_tokens import LinkTokens
from application.listings import Listings
from application.retry import retry_on_conflict
from application.store import EventStore
from domain.errors import NotFoundError
from domain.wishlist import Wishlist

SHARE_PURPOSE = "wishlist-share"


class Wishlists:
    def __init__(self, store: EventStore, listings: Listings, tokens: LinkTokens) -> None:
        self.store = store
        self.listings = listings
        self.tokens = tokens

    def get(self, actor: Actor, wishlist_id: UUID) -> Wishlist:
        """The caller's own wishlist; 404 for anyone else's (ids cannot be probed)."""
        try:
            wishlist = self.store.load(wishlist_id, "wishlist")
        except NotFoundError:
            wishlist = None
        if not isinstance(wishlist, Wishlist):
            raise NotFoundError("wishlist_not_found", f"wishlist {wishlist_id} not found")
        wishlist.check_owner(actor.id)
        return wishlist

    def share_token(self, wishlist: Wishlist) -> str | None:
        """The live share link's token, None when the wishlist is not shared."""
        if not wishlist.shared:
            return None
        return self.token_for(wishlist.id, wishlist.share_generation)

    def token_for(self, wishlist_id: UUID, generation: int) -> str:
        return self.tokens.issue(SHARE_PURPOSE, wishlist_id, generation)

    def shared_subject(self, token: str) -> UUID | None:
        return self.tokens.subject_of(token)

    def verify_share(self, token: str, wishlist_id: UUID, generation: int) -> bool:
        return self.tokens.verify(SHARE_PURPOSE, token, wishlist_id, generation)

    # -- commands -------------------------------------------------------------------------

    def create(self, actor: Actor, name: str, at: datetime) -> tuple[UUID, int]:
        wishlist = Wishlist.create(actor.id, name, at)
        return wishlist.id, self.store.record(wishlist)

    def _change(self, actor: Actor, wishlist_id: UUID, act: str, *args: object) -> int:
        def attempt() -> int:
            wishlist = self.get(actor, wishlist_id)
            getattr(wishlist, act)(*args)
            return self.store.record(wishlist)

        return retry_on_conflict(attempt)

    def rename(self, actor: Actor, wishlist_id: UUID, name: str, at: datetime) -> int:
        return self._change(actor, wishlist_id, "rename", name, at)

    def delete(self, actor: Actor, wishlist_id: UUID, at: datetime) -> int:
        return self._change(actor, wishlist_id, "delete", at)

    def add_listing(self, actor: Actor, wishlist_id: UUID, listing_id: UUID, at: datetime) -> int:
        """Adds a listing the caller can see (active, or their own); idempotent."""
        self.listings.get(listing_id, viewer=actor)
        return self._change(actor, wishlist_id, "add_listing", listing_id, at)

    def remove_listing(
        self, actor: Actor, wishlist_id: UUID, listing_id: UUID, at: datetime
    ) -> int:
        return self._change(actor, wishlist_id, "remove_listing", listing_id, at)

    def share(self, actor: Actor, wishlist_id: UUID, at: datetime) -> int:
        """A new share link (the previous one, if any, stops working)."""
        return self._change(actor, wishlist_id, "share", at)

    def unshare(self, actor: Actor, wishlist_id: UUID, at: datetime) -> int:
        return self._change(actor, wishlist_id, "unshare", at)
