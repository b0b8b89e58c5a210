"""User: identity, roles, password hash and status; EmailIndex makes emails unique.

A sign-up saves the `User` and its `EmailIndex` (id derived from the normalised email) in one
transaction, so two sign-ups of one email can never both succeed: the second index is a
duplicate stream and the whole save is refused by the event store.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from email_validator import EmailNotValidError, validate_email
from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, LockedError, RuleViolation
from domain.personal_data import ERASED
from domain.profile import clean_bio, clean_languages

EMAIL_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/email")
RENTER, OWNER, ADMIN = "renter", "owner", "admin"
ROLES = frozenset({RENTER, OWNER, ADMIN})
ACTIVE, SUSPENDED, ERASED_STATUS = "active", "suspended", "erased"


def is_active_status(status: str) -> bool:
    """Whether a user of this status may act: `User.is_active`, for a user read as its
    status alone (a cached `UserDetails`)."""
    return status == ACTIVE


MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 would take more; nobody needs it and it costs CPU
MAX_NAME_LENGTH = 100
VERIFY_EMAIL, PASSWORD_RESET = "verify_email", "password_reset"  # single-use token purposes
UNCHANGED: Any = object()  # an optional field a profile edit leaves as it is
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{5,32}$")


def normalize_email(email: str) -> str:
    """The canonical, lower-cased form of an address; RuleViolation when it is not one."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise RuleViolation("invalid_email", str(exc)) from None
    return result.normalized.lower()


def email_index_id(email: str) -> UUID:
    return uuid5(EMAIL_NS, normalize_email(email))


def keyed_email_index_id(email: str, secret: bytes) -> UUID:
    """The index id of an email under a secret kept outside the log: unlike `uuid5`, it
    cannot be recomputed from a guessed address without the secret."""
    digest = hmac.new(secret, normalize_email(email).encode(), hashlib.sha256).digest()
    return UUID(bytes=digest[:16])


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RuleViolation(
            "weak_password", f"a password has at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise RuleViolation(
            "password_too_long", f"a password has at most {MAX_PASSWORD_LENGTH} characters"
        )


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise RuleViolation("invalid_name", f"a name has 1 to {MAX_NAME_LENGTH} characters")
    return name


def clean_phone(phone: str | None) -> str | None:
    """None or blank means no phone."""
    if phone is None or not phone.strip():
        return None
    phone = phone.strip()
    if not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 5:
        raise RuleViolation("invalid_phone", "a phone number has digits, spaces, +, -, ( and )")
    return phone


class AccountLockedError(LockedError):
    """Too many failed logins; `until` is when the account unlocks (HTTP 423, Retry-After)."""

    def __init__(self, until: datetime) -> None:
        super().__init__("account_locked", f"account locked until {until.isoformat()}")
        self.until = until


class User(Aggregate):
    @classmethod
    def register(
        cls, email: str, name: str, phone: str | None, password_hash: str, at: datetime
    ) -> User:
        return cls(
            email=normalize_email(email),
            name=clean_name(name),
            phone=clean_phone(phone),
            password_hash=password_hash,
            at=at,
        )

    @event("Registered")
    def __init__(
        self, email: str, name: str, phone: str | None, password_hash: str, at: datetime
    ) -> None:
        self.email = email
        self.name = name
        self.phone = phone
        self.password_hash = password_hash
        self.roles: list[str] = [RENTER]  # every user can rent
        self.status = ACTIVE
        self.created_at = at
        self.locked_until: datetime | None = None
        self.bio = ""
        self.languages: list[str] = []
        self.avatar_media_id: UUID | None = None
        self.email_verified = False
        # purpose -> id of the one live token: a newer token supersedes, use consumes it
        self.pending_tokens: dict[str, str] = {}

    @property
    def is_active(self) -> bool:
        return is_active_status(self.status)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    # -- commands ------------------------------------------------------------------------

    def update_profile(
        self,
        *,
        name: str | None = None,
        phone: str | None = None,
        bio: str | None = None,
        languages: list[str] | None = None,
        avatar_media_id: UUID | None = UNCHANGED,
        at: datetime,
    ) -> None:
        """None (UNCHANGED for the avatar) leaves a field as it is; a blank phone clears it,
        a None avatar removes it. Records `ProfileEdited` with the whole new profile, or
        nothing when nothing changes."""
        self.check_not_erased()
        new: dict[str, Any] = {
            "name": self.name if name is None else clean_name(name),
            "phone": self.phone if phone is None else clean_phone(phone),
            "bio": self.bio if bio is None else clean_bio(bio),
            "languages": self.languages if languages is None else clean_languages(languages),
            "avatar_media_id": (
                self.avatar_media_id if avatar_media_id is UNCHANGED else avatar_media_id
            ),
        }
        if any(getattr(self, field) != value for field, value in new.items()):
            self._profile_edited(at=at, **new)

    @event("ProfileEdited")
    def _profile_edited(
        self,
        name: str,
        phone: str | None,
        bio: str,
        languages: list[str],
        avatar_media_id: UUID | None,
        at: datetime,
    ) -> None:
        self.name, self.phone, self.bio = name, phone, bio
        self.languages = list(languages)
        self.avatar_media_id = avatar_media_id

    @event("ProfileUpdated")  # name and phone only; recorded before profiles had more
    def _profile_updated(self, name: str, phone: str | None, at: datetime) -> None:
        self.name = name
        self.phone = phone

    def change_password_hash(self, password_hash: str, at: datetime) -> None:
        if password_hash != self.password_hash:
            self._password_changed(password_hash, at)

    @event("PasswordChanged")
    def _password_changed(self, password_hash: str, at: datetime) -> None:
        self.password_hash = password_hash

    def grant_role(self, role: str, by: UUID, at: datetime) -> None:
        """Idempotent: granting a role the user has records nothing."""
        self.check_known_role(role)
        if role not in self.roles:
            self._role_granted(role, by, at)

    @event("RoleGranted")
    def _role_granted(self, role: str, by: UUID, at: datetime) -> None:
        self.roles = sorted({*self.roles, role})

    def revoke_role(self, role: str, by: UUID, at: datetime) -> None:
        """Idempotent; the renter role belongs to every user and cannot be revoked."""
        self.check_known_role(role)
        if role == RENTER:
            raise RuleViolation("role_not_revocable", "every user can rent")
        if role in self.roles:
            self._role_revoked(role, by, at)

    @event("RoleRevoked")
    def _role_revoked(self, role: str, by: UUID, at: datetime) -> None:
        self.roles = sorted(set(self.roles) - {role})

    def suspend(self, by: UUID, reason: str, at: datetime) -> None:
        if self.status not in (SUSPENDED, ERASED_STATUS):
            self._suspended(by, reason, at)

    @event("Suspended")
    def _suspended(self, by: UUID, reason: str, at: datetime) -> None:
        self.status = SUSPENDED

    def reinstate(self, by: UUID, at: datetime) -> None:
        self.check_not_erased()
        if self.status != ACTIVE:
            self._reinstated(by, at)

    @event("Reinstated")
    def _reinstated(self, by: UUID, at: datetime) -> None:
        self.status = ACTIVE

    def record_lockout(self, until: datetime, at: datetime) -> None:
        """Audit trail of a lockout; the lock itself lives in the login-failure tracker."""
        if until <= at:
            raise RuleViolation("bad_lockout", "a lockout ends after it starts")
        self._locked_out(until, at)

    @event("LockedOut")
    def _locked_out(self, until: datetime, at: datetime) -> None:
        self.locked_until = until

    def erase(self, by: UUID, role: str, at: datetime) -> None:
        """The account's personal data is to be destroyed (its keys, by the caller); the
        event itself holds none. Idempotent."""
        if self.status != ERASED_STATUS:
            self._erased(by, role, at)

    @event("Erased")
    def _erased(self, by: UUID, role: str, at: datetime) -> None:
        self.status = ERASED_STATUS
        self.email, self.name, self.phone, self.bio = ERASED, ERASED, None, ERASED
        self.password_hash = ""
        self.pending_tokens = {}

    # -- email verification and password reset (single-use tokens) ----------------------

    def issue_token(self, purpose: str, token_id: str, expires_at: datetime, at: datetime) -> None:
        """Records a new token for `purpose`; it supersedes any earlier one."""
        self.check_token_purpose(purpose)
        if purpose == VERIFY_EMAIL:
            self.check_email_unverified()
        self._token_issued(purpose, token_id, expires_at, at)

    @event("TokenIssued")
    def _token_issued(
        self, purpose: str, token_id: str, expires_at: datetime, at: datetime
    ) -> None:
        self.pending_tokens = {**self.pending_tokens, purpose: token_id}

    def verify_email(self, token_id: str | None, at: datetime) -> None:
        """With the live verification token's id; None marks the email verified without a
        token (demo data, accounts the CLI creates)."""
        if token_id is not None:
            self.check_live_token(VERIFY_EMAIL, token_id)
        if not self.email_verified:
            self._email_verified(token_id, at)

    @event("EmailVerified")
    def _email_verified(self, token_id: str | None, at: datetime) -> None:
        self.email_verified = True
        self.pending_tokens = {k: v for k, v in self.pending_tokens.items() if k != VERIFY_EMAIL}

    def reset_password(self, token_id: str, password_hash: str, at: datetime) -> None:
        self.check_live_token(PASSWORD_RESET, token_id)
        self._password_reset(token_id, password_hash, at)

    @event("PasswordReset")
    def _password_reset(self, token_id: str, password_hash: str, at: datetime) -> None:
        self.password_hash = password_hash
        self.pending_tokens = {k: v for k, v in self.pending_tokens.items() if k != PASSWORD_RESET}

    # -- guards --------------------------------------------------------------------------

    @staticmethod
    def check_known_role(role: str) -> None:
        if role not in ROLES:
            raise RuleViolation("unknown_role", f"unknown role {role!r}")

    @staticmethod
    def check_token_purpose(purpose: str) -> None:
        if purpose not in (VERIFY_EMAIL, PASSWORD_RESET):
            raise RuleViolation("unknown_token_purpose", f"unknown token purpose {purpose!r}")

    def check_not_erased(self) -> None:
        if self.status == ERASED_STATUS:
            raise ConflictError("user_erased", "the account was erased")

    def check_email_unverified(self) -> None:
        if self.email_verified:
            raise ConflictError("email_already_verified", "the email is already verified")

    def check_live_token(self, purpose: str, token_id: str) -> None:
        """The token is the newest of its purpose and unused, for an active account."""
        if not self.is_active or self.pending_tokens.get(purpose) != token_id:
            raise RuleViolation("invalid_token", "the token is used, superseded or invalid")


class EmailIndex(Aggregate):
    """Claims one normalised email for one user. Its id is `keyed_email_index_id` (given as
    `id`), or `email_index_id` for indexes made before personal data was encrypted. Its
    email and user id are sealed with `key_id`'s key: once that key is destroyed,
    `user_id` reads as None and the address may be claimed again."""

    @staticmethod
    def create_id(email: str, **_: Any) -> UUID:
        return email_index_id(email)

    @event("Claimed")
    def __init__(
        self,
        email: str,
        user_id: UUID | None,
        key_id: UUID | None = None,  # absent from indexes made before encryption
        id: UUID | None = None,
    ) -> None:
        self.email = email
        self.user_id = user_id
        self.key_id = key_id

    def reclaim(self, email: str, user_id: UUID, key_id: UUID) -> None:
        if self.user_id is not None:
            raise ConflictError("email_taken", "an account with this email exists")
        self._reclaimed(email, user_id, key_id)

    @event("Reclaimed")
    def _reclaimed(self, email: str, user_id: UUID, key_id: UUID) -> None:
        self.email, self.user_id, self.key_id = email, user_id, key_id
