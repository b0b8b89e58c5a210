"""Domain errors. Interfaces map each family to one HTTP status in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the domain refuses; `code` is stable for clients."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class RuleViolation(DomainError):
    """The input breaks a business rule (HTTP 422)."""


class NotFoundError(DomainError):
    """The thing does not exist or is not visible to the caller (HTTP 404)."""


class ConflictError(DomainError):
    """The current state forbids the command (HTTP 409)."""


class InvalidTransition(ConflictError):
    """A status machine refused a transition."""


class UnavailableError(ConflictError):
    """The units are taken for (part of) the period."""

    def __init__(self, detail: str = "the units are not available for that period") -> None:
        super().__init__("unavailable", detail)


class PermissionDenied(DomainError):
    """The caller's role or ownership does not allow the action (HTTP 403)."""


class LockedError(DomainError):
    """The account is temporarily locked (HTTP 423)."""


class AuthenticationError(DomainError):
    """Credentials or session are missing or wrong (HTTP 401)."""
