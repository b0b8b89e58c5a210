"""Erasing a user: record `User.Erased`, destroy their keys, end their sessions, and have
the views that hold personal data repair the rows the user's sealed fields fed, so they
show them as erased (`projections/erasure_repair.py`; a rebuild where a view cannot).

The stored events are never touched (the log is append-only and hash-chained); what was
sealed with the destroyed keys reads as "[erased]" / null from then on, in every replay,
rebuild and time-travel state. Bookings, payments and the ledger keep their ids and money.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application import email_lookup, saved_aggregates
from application.ports import PasswordHasher, SessionStore
from application.store import EventStore
from application.user_cache import UserCache
from domain.errors import ConflictError, PermissionDenied, RuleViolation
from domain.personal_data import ERASED
from domain.user import ADMIN, ERASED_STATUS, EmailIndex, User

RETRIES = 5
# Repairs the views holding personal data after this user's keys went; their position
RepairViews = Callable[[UUID], int]


class Erasure:
    def __init__(
        self,
        store: EventStore,
        hasher: PasswordHasher,
        sessions: SessionStore,
        repair_views: RepairViews,
        *,
        users: UserCache[Any] | None = None,
    ) -> None:
        if store.keyring is None:
            raise ValueError("erasure needs an event store with a key ring")
        self._store = store
        self._hasher = hasher
        self._sessions = sessions
        self._repair = repair_views
        self._users = users

    def erase_self(self, user_id: UUID, password: str, *, at: datetime) -> int:
        """The user erases their own account; the current password must be given again,
        so a stolen session alone cannot do it."""
        user: User = self._store.load(user_id, "user")
        if not self._hasher.verify(user.password_hash, password):
            raise RuleViolation("wrong_password", "the current password is wrong")
        return self._erase(user_id, by=user_id, role="user", at=at)

    def erase_by_admin(self, user_id: UUID, *, by_admin: UUID, at: datetime) -> int:
        """An admin erases another account (audited: the event names the admin)."""
        admin: User = self._store.load(by_admin, "user")
        if not admin.is_active or not admin.has_role(ADMIN):
            raise PermissionDenied("admin_required", "only an admin may do this")
        if user_id == by_admin:
            raise PermissionDenied("erase_self", "erase your own account with DELETE /users/me")
        return self._erase(user_id, by=by_admin, role=ADMIN, at=at)

    def _erase(self, user_id: UUID, *, by: UUID, role: str, at: datetime) -> int:
        """Idempotent: erasing an erased user destroys nothing new and records nothing."""
        keyring = self._store.keyring
        assert keyring is not None
        user: User = self._store.load(user_id, "user")
        index_key = self._index_key(user)
        position = 0
        if user.status != ERASED_STATUS:
            position = self._record_erased(user_id, by, role, at)
        keyring.destroy(user_id)
        if index_key is not None:
            keyring.destroy(index_key)
        saved_aggregates.forget_all()  # they hold decrypted state
        if self._users is not None:
            self._users.discard(user_id)
        self._sessions.revoke_all(user_id)
        view_position = self._repair(user_id)  # again on a repeat: it may have crashed
        return max(position, view_position)

    def _record_erased(self, user_id: UUID, by: UUID, role: str, at: datetime) -> int:
        for _ in range(RETRIES):  # a login rehash or lockout may move the stream meanwhile
            user: User = self._store.load(user_id, "user")
            user.erase(by, role, at)
            try:
                return self._store.record(user)
            except IntegrityError:
                continue
        raise ConflictError("concurrent_update", "please retry")

    def _index_key(self, user: User) -> UUID | None:
        """The key sealing the user's email index entry, found through their email (as it
        was before the erasure, when a first attempt stopped before destroying the keys)."""
        if user.status == ERASED_STATUS and user.version > 1:
            user = self._store.load(user.id, "user", version=user.version - 1)
        if user.email == ERASED:  # the keys are gone already
            return None
        for index_id in email_lookup.index_ids(self._store, user.email):
            if self._store.exists(index_id):
                index: EmailIndex = self._store.load(index_id, "email")
                if index.user_id == user.id:
                    return index.key_id
        return None
