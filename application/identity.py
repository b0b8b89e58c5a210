"""Identity use cases: sign-up, login with lockout, sessions, profile and roles."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application import email_lookup
from application.context import SYSTEM_ACTOR
from application.ports import LoginFailureTracker, PasswordHasher, Session, SessionStore
from application.principal_cache import PrincipalCache
from application.store import EventStore
from application.user_cache import UserCache
from domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
)
from domain.user import (
    ADMIN,
    OWNER,
    AccountLockedError,
    EmailIndex,
    User,
    check_password_strength,
    is_active_status,
    normalize_email,
)

RETRIES = 5  # reload-and-retry when a concurrent command moved the user's stream


@dataclass(frozen=True)
class Principal:
    """Who a request acts as; roles are the user's current ones, not the session's."""

    user_id: UUID
    roles: tuple[str, ...]
    session_id: UUID
    csrf_token: str

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class UserDetails:
    id: UUID
    email: str
    name: str
    phone: str | None
    roles: tuple[str, ...]
    status: str
    created_at: datetime
    version: int  # for ETag / If-Match
    bio: str = ""
    languages: tuple[str, ...] = ()
    avatar_media_id: UUID | None = None
    email_verified: bool = False

    @property
    def is_active(self) -> bool:
        return is_active_status(self.status)


def _invalid_credentials() -> AuthenticationError:
    return AuthenticationError("invalid_credentials", "wrong email or password")


class Identity:
    def __init__(
        self,
        store: EventStore,
        hasher: PasswordHasher,
        sessions: SessionStore,
        failures: LoginFailureTracker,
        *,
        session_ttl: timedelta = timedelta(days=7),
        principals: PrincipalCache | None = None,
        users: UserCache[UserDetails] | None = None,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._sessions = sessions
        self._failures = failures
        self._ttl = int(session_ttl.total_seconds())
        self._dummy_hash: str | None = None
        # Pass `sessions` wrapped in RevocationAwareSessions(…, principals) with a cache.
        self._principals = principals or PrincipalCache(0)
        # Profile reads, checked against the store on every use (application/user_cache.py).
        self.users: UserCache[UserDetails] = (
            users if users is not None else UserCache(store, maxsize=0)
        )

    @property
    def hasher(self) -> PasswordHasher:
        return self._hasher

    # -- sign-up and login ---------------------------------------------------------------

    def register(
        self, email: str, password: str, name: str, phone: str | None = None, *, at: datetime
    ) -> tuple[UUID, int]:
        """Creates a renter account; ConflictError("email_taken") when the email (compared
        case-insensitively) has an account, even when two sign-ups race."""
        user, index = self._new_user(email, password, name, phone, at)
        return user.id, self._record_new(user, index)

    def login(self, email: str, password: str, *, at: datetime) -> tuple[Session, UUID, int]:
        """A new session. Wrong password and unknown email fail alike; the failure that
        reaches the limit locks the account (AccountLockedError, HTTP 423, with `until`),
        and while locked even the right password is refused. Returns the position of what
        the login recorded (a password rehash), else 0."""
        try:
            key = normalize_email(email)
        except RuleViolation:
            key = email.strip().lower()
        account = self._account_key(key)
        until = self._failures.locked_until(account, at)
        if until is not None:
            raise AccountLockedError(until)
        user = self._find_by_email(key)
        # Verify even for an unknown email, so both cases take the same time.
        matches = self._hasher.verify(user.password_hash if user else self._dummy(), password)
        if user is None or not matches:
            until = self._failures.record_failure(account, at)
            if until is not None:
                if user is not None:
                    self._audit_lockout(user.id, until, at)
                raise AccountLockedError(until)
            raise _invalid_credentials()
        if not user.is_active:
            raise AuthenticationError("account_suspended", "the account is suspended")
        self._failures.reset(account)
        position = 0
        if self._hasher.needs_rehash(user.password_hash):
            new_hash = self._hasher.hash(password)
            position = self._change(user.id, lambda u: u.change_password_hash(new_hash, at))
        session = self._sessions.create(user.id, tuple(user.roles), self._ttl, at)
        return session, user.id, position

    # -- sessions ------------------------------------------------------------------------

    def authenticate(self, token: str | None, *, at: datetime) -> Principal:
        """The principal of a bearer token; AuthenticationError when the token is missing,
        unknown, expired or its user is suspended. The session's expiry slides when the
        session store is read, i.e. on a principal-cache miss: at most once per cache TTL
        (seconds, against a TTL of days), not on every request."""
        if not token:
            raise AuthenticationError("not_authenticated", "a session token is required")
        if (cached := self._principals.get(token, at)) is not None:
            return cached
        epoch = self._principals.epoch
        session = self._sessions.get(token, at)
        if session is None:
            raise AuthenticationError("invalid_session", "the session is invalid or expired")
        try:
            user = self.get_user(session.user_id)
        except NotFoundError:
            self._sessions.revoke_token(token)
            raise AuthenticationError("invalid_session", "the session's user is gone") from None
        if not user.is_active:
            self._sessions.revoke_all(user.id)
            raise AuthenticationError("account_suspended", "the account is suspended")
        principal = Principal(user.id, user.roles, session.id, session.csrf_token)
        self._principals.put(token, principal, at=at, expires_at=session.expires_at, epoch=epoch)
        return principal

    def cached_principal(self, token: str, *, at: datetime) -> Principal | None:
        """What `authenticate` would answer from this process's principal cache, without
        I/O (None: not cached), so an async caller can skip a thread-pool hop."""
        return self._principals.get(token, at)

    def logout(self, token: str) -> bool:
        return self._sessions.revoke_token(token)

    def sessions(self, user_id: UUID, *, at: datetime) -> list[Session]:
        """The user's live sessions (no tokens), oldest first."""
        return self._sessions.list(user_id, at)

    def revoke_session(self, user_id: UUID, session_id: UUID) -> None:
        if not self._sessions.revoke(user_id, session_id):
            raise NotFoundError("session_not_found", f"session {session_id} not found")

    # -- profile -------------------------------------------------------------------------

    def get_user(self, user_id: UUID) -> UserDetails:
        if (cached := self.users.get(user_id)) is not None:
            return cached
        epoch = self.users.epoch
        details = self._details(self._store.load(user_id, "user"))
        self.users.put(user_id, details.version, details, epoch=epoch)
        return details

    @staticmethod
    def _details(user: User) -> UserDetails:
        return UserDetails(
            id=user.id,
            email=user.email,
            name=user.name,
            phone=user.phone,
            roles=tuple(user.roles),
            status=user.status,
            created_at=user.created_at,
            version=user.version,
            bio=user.bio,
            languages=tuple(user.languages),
            avatar_media_id=user.avatar_media_id,
            email_verified=user.email_verified,
        )

    def update_profile(
        self,
        user_id: UUID,
        *,
        name: str | None = None,
        phone: str | None = None,
        at: datetime,
        expected_version: int | None = None,
    ) -> int:
        """None leaves a field unchanged, a blank phone clears it. ConflictError
        ("version_mismatch") when `expected_version` (If-Match) is not the current one."""

        def act(user: User) -> None:
            if expected_version is not None and user.version != expected_version:
                raise ConflictError("version_mismatch", f"the user is at version {user.version}")
            user.update_profile(name=name, phone=phone, at=at)

        return self._change(user_id, act)

    def change_password(
        self,
        user_id: UUID,
        current_password: str,
        new_password: str,
        *,
        at: datetime,
        keep_session_id: UUID | None = None,
    ) -> int:
        """Changes the password and ends every other session of the user."""
        check_password_strength(new_password)
        user: User = self._store.load(user_id, "user")
        if not self._hasher.verify(user.password_hash, current_password):
            raise RuleViolation("wrong_password", "the current password is wrong")
        new_hash = self._hasher.hash(new_password)
        position = self._change(user_id, lambda u: u.change_password_hash(new_hash, at))
        for session in self._sessions.list(user_id, at):
            if session.id != keep_session_id:
                self._sessions.revoke(user_id, session.id)
        return position

    # -- roles and status ----------------------------------------------------------------

    def grant_owner(self, user_id: UUID, *, at: datetime) -> int:
        """Idempotent (0 when the user already owns); called on the user's first listing."""
        return self._change(user_id, lambda u: u.grant_role(OWNER, by=user_id, at=at))

    def grant_role(self, user_id: UUID, role: str, *, by_admin: UUID, at: datetime) -> int:
        self._require_admin(by_admin)
        return self._change(user_id, lambda u: u.grant_role(role, by=by_admin, at=at))

    def revoke_role(self, user_id: UUID, role: str, *, by_admin: UUID, at: datetime) -> int:
        self._require_admin(by_admin)
        return self._change(user_id, lambda u: u.revoke_role(role, by=by_admin, at=at))

    def suspend_user(self, user_id: UUID, *, by_admin: UUID, reason: str, at: datetime) -> int:
        """Suspends the account and ends its sessions."""
        self._require_admin(by_admin)
        position = self._change(user_id, lambda u: u.suspend(by=by_admin, reason=reason, at=at))
        self._sessions.revoke_all(user_id)
        return position

    def reinstate_user(self, user_id: UUID, *, by_admin: UUID, at: datetime) -> int:
        self._require_admin(by_admin)
        return self._change(user_id, lambda u: u.reinstate(by=by_admin, at=at))

    def create_admin(
        self, email: str, password: str, name: str, *, at: datetime
    ) -> tuple[UUID, int, bool]:
        """(user id, position, created): creates an admin account, or promotes the existing
        account of that email (whose password is then left unchanged). For the CLI."""
        existing = self._find_by_email(normalize_email(email))
        if existing is None:
            user, index = self._new_user(email, password, name, None, at)
            user.grant_role(ADMIN, by=SYSTEM_ACTOR, at=at)
            user.verify_email(None, at)  # the operator vouches for the address
            try:
                return user.id, self._record_new(user, index), True
            except ConflictError:  # created meanwhile: promote it
                existing = self._find_by_email(user.email)
                if existing is None:
                    raise

        def promote(user: User) -> None:
            user.grant_role(ADMIN, SYSTEM_ACTOR, at)
            user.verify_email(None, at)

        return existing.id, self._change(existing.id, promote), False

    def mark_email_verified(self, user_id: UUID, *, at: datetime) -> int:
        """Verifies the email without a token (demo data, operator-made accounts); 0 when
        it already was."""
        return self._change(user_id, lambda u: u.verify_email(None, at))

    # -- helpers -------------------------------------------------------------------------

    def _new_user(
        self, email: str, password: str, name: str, phone: str | None, at: datetime
    ) -> tuple[User, EmailIndex]:
        check_password_strength(password)
        if email_lookup.find_user(self._store, email) is not None:
            raise ConflictError("email_taken", "an account with this email exists")
        user = User.register(email, name, phone, self._hasher.hash(password), at)
        return user, email_lookup.claim(self._store, user)

    def _record_new(self, user: User, index: EmailIndex) -> int:
        try:
            return self._store.record(user, index)
        except IntegrityError:  # the index exists: another sign-up of this email won
            raise ConflictError("email_taken", "an account with this email exists") from None

    def _find_by_email(self, normalized_email: str) -> User | None:
        return email_lookup.find_user(self._store, normalized_email)

    def _change(self, user_id: UUID, act: Callable[[User], None]) -> int:
        """Load → act → record, retried on a fresh load when the stream moved meanwhile."""
        for attempt in range(RETRIES):
            user: User = self._store.load(user_id, "user")
            act(user)
            try:
                position = self._store.record(user)
            except IntegrityError:
                if attempt == RETRIES - 1:
                    raise ConflictError("concurrent_update", "please retry") from None
                continue
            self._principals.forget_user(user_id)  # roles or status may have changed
            return position
        raise AssertionError("unreachable")

    def _audit_lockout(self, user_id: UUID, until: datetime, at: datetime) -> None:
        # The lock is already in force; a lost audit event must not turn 423 into 409.
        with contextlib.suppress(ConflictError):
            self._change(user_id, lambda u: u.record_lockout(until, at))

    def _require_admin(self, admin_id: UUID) -> None:
        denied = PermissionDenied("admin_required", "only an admin may do this")
        try:
            admin: User = self._store.load(admin_id, "user")
        except NotFoundError:
            raise denied from None
        if not admin.is_active or not admin.has_role(ADMIN):
            raise denied

    @staticmethod
    def _account_key(normalized_email: str) -> str:
        return "email:" + hashlib.sha256(normalized_email.encode()).hexdigest()

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash
