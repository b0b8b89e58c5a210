"""Authenticated principals cached per process for a few seconds.

Without it every authenticated request costs a session-store round trip (Redis) and a
replay of the user's stream before the command even starts. An entry lives `ttl` seconds
(`Settings.principal_cache_seconds`, 5), never past its session's expiry, and goes at once
when this process revokes: `RevocationAwareSessions` wraps the `SessionStore`, so logout,
session deletion, password change or reset, suspension, anything revoking through the
store, forget the entries it ends; a change to the user (roles, status) forgets theirs.
Another process's revocation is seen here within `ttl` seconds: that is the bound. A
session's sliding expiry moves on the lookups that miss, so at most every `ttl` seconds.
"""

from __future__ import annotations

import builtins
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from application.ports import Session, SessionStore

if TYPE_CHECKING:
    from application.identity import Principal


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    until: datetime


class PrincipalCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 50_000) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._epoch = 0  # moves on every forget: a lookup that raced one is not cached

    @property
    def enabled(self) -> bool:
        return self.ttl > timedelta(0)

    @property
    def epoch(self) -> int:
        return self._epoch

    def get(self, token: str, at: datetime) -> Principal | None:
        key = _key(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if at >= entry.until:
                del self._entries[key]
                return None
            return entry.principal

    def put(
        self, token: str, principal: Principal, *, at: datetime, expires_at: datetime, epoch: int
    ) -> None:
        """Caches unless something was forgotten since `epoch` was read (it may have been
        this very session, revoked while it was being looked up)."""
        if not self.enabled:
            return
        with self._lock:
            if epoch != self._epoch:
                return
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest
            self._entries[_key(token)] = _Entry(principal, min(at + self.ttl, expires_at))

    def forget_token(self, token: str) -> None:
        self._forget(lambda key, _: key == _key(token))

    def forget_session(self, session_id: UUID) -> None:
        self._forget(lambda _, e: e.principal.session_id == session_id)

    def forget_user(self, user_id: UUID) -> None:
        self._forget(lambda _, e: e.principal.user_id == user_id)

    def _forget(self, doomed: Callable[[str, _Entry], bool]) -> None:
        with self._lock:
            self._epoch += 1
            for key in [k for k, e in self._entries.items() if doomed(k, e)]:
                del self._entries[key]


class RevocationAwareSessions(SessionStore):
    """The `SessionStore` every caller uses: revocations go through and forget the cache."""

    def __init__(self, inner: SessionStore, cache: PrincipalCache) -> None:
        self.inner = inner
        self.cache = cache

    def create(self, user_id: UUID, roles: tuple[str, ...], ttl: int, at: datetime) -> Session:
        return self.inner.create(user_id, roles, ttl, at)

    def get(self, token: str, at: datetime) -> Session | None:
        return self.inner.get(token, at)

    def list(self, user_id: UUID, at: datetime) -> builtins.list[Session]:
        return self.inner.list(user_id, at)

    def revoke(self, user_id: UUID, session_id: UUID) -> bool:
        self.cache.forget_session(session_id)
        done = self.inner.revoke(user_id, session_id)
        self.cache.forget_session(session_id)  # and any lookup that raced the revocation
        return done

    def revoke_token(self, token: str) -> bool:
        self.cache.forget_token(token)
        done = self.inner.revoke_token(token)
        self.cache.forget_token(token)
        return done

    def revoke_all(self, user_id: UUID) -> int:
        self.cache.forget_user(user_id)
        done = self.inner.revoke_all(user_id)
        self.cache.forget_user(user_id)
        return done
