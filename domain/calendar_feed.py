"""Calendar sync aggregates: an external iCal feed imported into a listing's calendar, and
the secret-link generation of the listing's own exported feed.

`CalendarFeed` remembers which calendar block stands for which external event (so a removed
event removes its block), the conditional-GET validators of the last fetch, and what the
owner must see: the last status, error and the overlaps with Rentbook bookings (conflicts).
It never reads a clock or the network: the application passes in what it fetched and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFoundError, RuleViolation

MAX_URL = 2000
MAX_FEED_NAME = 100
PENDING, OK, NOT_MODIFIED, ERROR = "pending", "ok", "not_modified", "error"
_NAMESPACE = uuid5(NAMESPACE_URL, "https://rentbook.dev/calendar-sync")


def check_feed_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise RuleViolation("feed_url_required", "a feed URL is required")
    url = url.strip()
    if url.lower().startswith("webcal://"):  # what calendar apps hand out: plain HTTPS
        url = "https://" + url[len("webcal://") :]
    if not url.lower().startswith(("http://", "https://")) or len(url) > MAX_URL:
        raise RuleViolation("bad_feed_url", f"a feed URL is http(s), at most {MAX_URL} chars")
    return url


def check_feed_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_FEED_NAME:
        raise RuleViolation("bad_feed_name", f"a feed name has 1 to {MAX_FEED_NAME} characters")
    return name.strip()


def feed_block_id(feed_id: UUID, event_key: str) -> UUID:
    """The calendar block that stands for one external event (occurrence) of a feed."""
    return uuid5(_NAMESPACE, f"feed/{feed_id}/{event_key}")


def conflict_key(conflict: dict[str, Any]) -> tuple[Any, ...]:
    """One overlap: the external event occurrence and the bookings it overlaps."""
    return (
        conflict.get("uid"),
        conflict.get("start"),
        conflict.get("end"),
        tuple(conflict.get("booking_ids") or ()),
    )


def export_id_for(listing_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"export/{listing_id}")


class CalendarFeed(Aggregate):
    @event("Added")
    def __init__(self, listing_id: UUID, owner_id: UUID, url: str, name: str, at: datetime) -> None:
        self.listing_id, self.owner_id = listing_id, owner_id
        self.url, self.name = url, name
        self.created_at = at
        self.removed = False
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.blocks: dict[str, str] = {}  # event key -> calendar block id
        self.conflicts: list[dict[str, Any]] = []
        self.event_count = 0
        self.status = PENDING
        self.last_error: str | None = None
        self.last_fetch_at: datetime | None = None
        self.last_success_at: datetime | None = None
        self.next_fetch_at: datetime | None = at  # due at once

    @classmethod
    def add(cls, listing_id: UUID, owner_id: UUID, url: str, name: str, at: datetime) -> Any:
        return cls(
            listing_id=listing_id,
            owner_id=owner_id,
            url=check_feed_url(url),
            name=check_feed_name(name),
            at=at,
        )

    def check_live(self) -> None:
        if self.removed:
            raise NotFoundError("feed_not_found", f"calendar feed {self.id} not found")

    # -- outcomes of a fetch ----------------------------------------------------------------

    def synced(
        self,
        *,
        etag: str | None,
        last_modified: str | None,
        blocks: dict[str, str],
        conflicts: list[dict[str, Any]],
        event_count: int,
        at: datetime,
        next_fetch_at: datetime,
    ) -> bool:
        """Records a parsed feed; True when anything the owner or the next sync relies on
        changed (else only that it was checked, so importing twice changes nothing)."""
        self.check_live()
        new = (etag, last_modified, blocks, conflicts, event_count)
        old = (self.etag, self.last_modified, self.blocks, self.conflicts, self.event_count)
        if new != old or self.status != OK:
            known = {conflict_key(c) for c in self.conflicts}
            fresh = [c for c in conflicts if conflict_key(c) not in known]
            self._synced(
                etag, last_modified, blocks, conflicts, event_count, at, next_fetch_at, fresh
            )
            return True
        self._checked(OK, at, next_fetch_at)
        return False

    @event("Synced")
    def _synced(
        self,
        etag: str | None,
        last_modified: str | None,
        blocks: dict[str, str],
        conflicts: list[dict[str, Any]],
        event_count: int,
        at: datetime,
        next_fetch_at: datetime,
        new_conflicts: list[dict[str, Any]] | None = None,  # absent before owners were told
    ) -> None:
        """`new_conflicts`: the conflicts the last sync had not found (the owner is told of
        these once, not again each time the feed changes elsewhere)."""
        self.etag, self.last_modified = etag, last_modified
        self.blocks, self.conflicts = dict(blocks), list(conflicts)
        self.event_count = event_count
        self.status, self.last_error = OK, None
        self.last_fetch_at = self.last_success_at = at
        self.next_fetch_at = next_fetch_at

    def not_modified(self, at: datetime, next_fetch_at: datetime) -> None:
        self.check_live()
        self._checked(NOT_MODIFIED, at, next_fetch_at)

    @event("Checked")
    def _checked(self, status: str, at: datetime, next_fetch_at: datetime) -> None:
        self.status, self.last_error = status, None
        self.last_fetch_at = self.last_success_at = at
        self.next_fetch_at = next_fetch_at

    def failed(self, error: str, at: datetime, next_fetch_at: datetime) -> None:
        """The feed could not be fetched or read: its blocks stay as they were."""
        self.check_live()
        self._failed(error[:500], at, next_fetch_at)

    @event("Failed")
    def _failed(self, error: str, at: datetime, next_fetch_at: datetime) -> None:
        self.status, self.last_error = ERROR, error
        self.last_fetch_at = at
        self.next_fetch_at = next_fetch_at

    def remove(self, at: datetime) -> None:
        self.check_live()
        self._removed(at)

    @event("Removed")
    def _removed(self, at: datetime) -> None:
        self.removed = True
        self.blocks = {}
        self.next_fetch_at = None


class CalendarExport(Aggregate):
    """The generation of a listing's secret export link; rotating makes older links fail.
    A listing without one is at generation 0 (its first link works without any event)."""

    @staticmethod
    def create_id(listing_id: UUID, **_: Any) -> UUID:
        return export_id_for(listing_id)

    @event("Opened")
    def __init__(self, listing_id: UUID, at: datetime) -> None:
        self.listing_id = listing_id
        self.generation = 0

    def rotate(self, at: datetime) -> None:
        self._rotated(self.generation + 1, at)

    @event("Rotated")
    def _rotated(self, generation: int, at: datetime) -> None:
        self.generation = generation
