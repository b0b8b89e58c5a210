"""Finding a user by email and claiming an email, through the erasable email index.

New indexes are keyed by an HMAC of the normalised email under a secret kept with the
personal keys; indexes made before that are keyed by `uuid5(email)` and still found. An
index whose key was destroyed (its user erased) has no user and may be claimed again.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from application.store import EventStore
from domain.errors import ConflictError, NotFoundError, RuleViolation
from domain.user import (
    ERASED_STATUS,
    EmailIndex,
    User,
    email_index_id,
    keyed_email_index_id,
    normalize_email,
)


def index_ids(store: EventStore, email: str) -> list[UUID]:
    """The keyed id first (when personal data is encrypted), then the legacy one."""
    legacy = email_index_id(email)
    if store.keyring is None:
        return [legacy]
    return [keyed_email_index_id(email, store.keyring.lookup_secret()), legacy]


def find_user(store: EventStore, email: str) -> User | None:
    """The live (not erased) account of this address, if any; None for non-addresses."""
    try:
        ids = index_ids(store, email)
    except RuleViolation:
        return None
    for index_id in ids:
        user = _owner(store, index_id)[1]
        if user is not None:
            return user
    return None


def claim(store: EventStore, user: User) -> EmailIndex:
    """The index to save with a new `user`; ConflictError("email_taken") when a live
    account has the address. A race between two sign-ups is settled by the save."""
    ids = index_ids(store, user.email)
    for index_id in ids:
        if _owner(store, index_id)[1] is not None:
            raise ConflictError("email_taken", "an account with this email exists")
    key_id = uuid4() if store.keyring is not None else None
    index, _ = _owner(store, ids[0])
    if index is None:
        return EmailIndex(id=ids[0], email=user.email, user_id=user.id, key_id=key_id)
    index.reclaim(user.email, user.id, key_id or uuid4())  # its user was erased
    return index


def _owner(store: EventStore, index_id: UUID) -> tuple[EmailIndex | None, User | None]:
    try:
        index: EmailIndex = store.load(index_id, "email")
    except NotFoundError:
        return None, None
    if index.user_id is None:
        return index, None
    try:
        user: User = store.load(index.user_id, "user")
    except NotFoundError:
        return index, None
    return index, (None if user.status == ERASED_STATUS else user)


__all__ = ["claim", "find_user", "index_ids", "normalize_email"]
