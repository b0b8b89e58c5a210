"""User: identity, roles, password hash and status; EmailIndex makes emails unique.

A sign-up saves the `User` and its `EmailIndex` (id derived from the normalised email) in one
transaction, so two sign-ups of one email can never both succeed: the second index is a
duplicate stream and the whole save is refused by the event store.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from email_validator import EmailNotValidError, validate_email
from eventsourcing.domain import Aggregate, event

from domain.errors import LockedError, RuleViolation

EMAIL_NS = uuid5(NAMESPACE_URL, "https://rentbook.dev/email")
RENTER, OWNER, ADMIN = "renter", "owner", "admin"
ROLES = frozenset({RENTER, OWNER, ADMIN})
ACTIVE, SUSPENDED = "active", "suspended"
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 would take more; nobody needs it and it costs CPU
MAX_NAME_LENGTH = 100
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

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    def has_role(self, role: str) -> bool:
        return role in self.roles

    # -- commands ------------------------------------------------------------------------

    def update_profile(
        self, *, name: str | None = None, phone: str | None = None, at: datetime
    ) -> None:
        """None leaves a field as it is; a blank phone clears it."""
        new_name = self.name if name is None else clean_name(name)
        new_phone = self.phone if phone is None else clean_phone(phone)
        if (new_name, new_phone) != (self.name, self.phone):
            self._profile_updated(new_name, new_phone, at)

    @event("ProfileUpdated")
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
        if self.status != SUSPENDED:
            self._suspended(by, reason, at)

    @event("Suspended")
    def _suspended(self, by: UUID, reason: str, at: datetime) -> None:
        self.status = SUSPENDED

    def reinstate(self, by: UUID, at: datetime) -> None:
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

    # -- guards --------------------------------------------------------------------------

    @staticmethod
    def check_known_role(role: str) -> None:
        if role not in ROLES:
            raise RuleViolation("unknown_role", f"unknown role {role!r}")


class EmailIndex(Aggregate):
    """Claims one normalised email for one user; its id is derived from the email."""

    @staticmethod
    def create_id(email: str, **_: Any) -> UUID:
        return email_index_id(email)

    @event("Claimed")
    def __init__(self, email: str, user_id: UUID) -> None:
        self.email = email
        self.user_id = user_id
