"""OwnerAccount: an owner's connected account at the processor (id = uuid5 of the owner).

Payouts go only to an account whose latest reported state has payouts enabled. The
processor's `account.updated` events may arrive late or twice: duplicates are no-ops and a
report older than the one applied is ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError

OWNER_ACCOUNT_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/owner-account")


def owner_account_id_for(owner_id: UUID) -> UUID:
    return uuid5(OWNER_ACCOUNT_NS, str(owner_id))


class OwnerAccount(Aggregate):
    @staticmethod
    def create_id(owner_id: UUID, **_: Any) -> UUID:
        return owner_account_id_for(owner_id)

    @event("Opened")
    def __init__(self, owner_id: UUID, account_id: str, at: datetime) -> None:
        self.owner_id = owner_id
        self.account_id = account_id
        self.charges_enabled = False
        self.payouts_enabled = False
        self.reported_at: str | None = None
        self.processed: list[str] = []
        self.updated_at = at

    def update_status(
        self,
        event_id: str,
        account_id: str,
        *,
        charges_enabled: bool,
        payouts_enabled: bool,
        reported_at: datetime,
        at: datetime,
    ) -> bool:
        if account_id != self.account_id:
            raise ConflictError("account_mismatch", "the owner has another connected account")
        if event_id in self.processed:
            return False
        if self.reported_at is not None and reported_at.isoformat() < self.reported_at:
            return False  # an older report than the one applied
        self._status_updated(event_id, charges_enabled, payouts_enabled, reported_at, at)
        return True

    @event("StatusUpdated")
    def _status_updated(
        self,
        event_id: str,
        charges_enabled: bool,
        payouts_enabled: bool,
        reported_at: datetime,
        at: datetime,
    ) -> None:
        self.charges_enabled = charges_enabled
        self.payouts_enabled = payouts_enabled
        self.reported_at = reported_at.isoformat()
        self.processed.append(event_id)
        self.updated_at = at
