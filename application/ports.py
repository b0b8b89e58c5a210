"""Ports: the small abstract classes the application needs from the outside world.

Adapters live in `infrastructure`, fakes of the same ports in `tests`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

# -- time ----------------------------------------------------------------------------------


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""


# -- passwords -----------------------------------------------------------------------------


class PasswordHasher(ABC):
    @abstractmethod
    def hash(self, password: str) -> str: ...

    @abstractmethod
    def verify(self, password_hash: str, password: str) -> bool:
        """True when the password matches; False (never an exception) for a wrong password
        or a malformed hash."""

    @abstractmethod
    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""


# -- sessions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    id: UUID
    user_id: UUID
    roles: tuple[str, ...]  # at creation; authoritative roles live on the User
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    token: str | None = None  # the bearer secret: only on create() and get(); never stored


class SessionStore(ABC):
    """Opaque bearer sessions with sliding expiry. Stores only sha256 hashes of tokens."""

    @abstractmethod
    def create(self, user_id: UUID, roles: tuple[str, ...], ttl: int, at: datetime) -> Session:
        """A new session living `ttl` seconds after its last use; the token is
        `secrets.token_urlsafe(32)`."""

    @abstractmethod
    def get(self, token: str, at: datetime) -> Session | None:
        """The live session of this token, its expiry pushed to `at + ttl` (sliding);
        None when unknown, revoked or expired."""

    @abstractmethod
    def list(self, user_id: UUID, at: datetime) -> list[Session]:
        """The user's live sessions, oldest first, without tokens."""

    @abstractmethod
    def revoke(self, user_id: UUID, session_id: UUID) -> bool:
        """False when the user has no such session."""

    @abstractmethod
    def revoke_token(self, token: str) -> bool:
        """Logout: ends the session of this token; False when there was none."""

    @abstractmethod
    def revoke_all(self, user_id: UUID) -> int:
        """Ends every session of the user; returns how many there were."""


# -- rate limits and login failures --------------------------------------------------------


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int  # whole seconds until a hit would be allowed; 0 when allowed


class RateLimiter(ABC):
    @abstractmethod
    def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        """Counts one hit on `key`: at most `limit` hits per `window_seconds`, smoothly
        (a refused hit does not count)."""


class LoginFailureTracker(ABC):
    """Counts failed logins per account and locks it after too many within a window.

    Adapters are built with `max_failures`, `window` and `lockout` (from Settings)."""

    @abstractmethod
    def locked_until(self, key: str, at: datetime) -> datetime | None:
        """When the account unlocks, or None when it is not locked at `at`."""

    @abstractmethod
    def record_failure(self, key: str, at: datetime) -> datetime | None:
        """Counts a failure; returns the unlock instant when this failure locked the
        account (the count starts again after the lock), else None."""

    @abstractmethod
    def reset(self, key: str) -> None:
        """Forgets the failures (a successful login); an active lock stays."""


# -- media ---------------------------------------------------------------------------------


class MediaCatalog(ABC):
    @abstractmethod
    def missing(self, owner_id: UUID, media_ids: list[UUID]) -> list[UUID]:
        """The ids among `media_ids` that are not media uploaded by `owner_id`."""
