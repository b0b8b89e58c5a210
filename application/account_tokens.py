"""Email verification and password reset: single-use, expiring tokens sent by mail.

A token is signed (`TokenSigner`) and its id recorded on the User (`TokenIssued`); using it
records `EmailVerified` or `PasswordReset`, which consumes it, and issuing another of the
same purpose supersedes it. So single use holds across processes and restarts: it is in the
event log, not in a cache."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import UUID

from application import email_lookup
from application.mailer import Mail, Mailer
from application.ports import PasswordHasher, SessionStore
from application.retry import retry_on_conflict
from application.store import EventStore
from application.tokens import TokenSigner
from domain.errors import NotFoundError, RuleViolation
from domain.user import PASSWORD_RESET, VERIFY_EMAIL, User, check_password_strength

log = logging.getLogger(__name__)

VERIFY_TTL = timedelta(hours=24)
RESET_TTL = timedelta(hours=1)


class AccountTokens:
    def __init__(
        self,
        store: EventStore,
        hasher: PasswordHasher,
        sessions: SessionStore,
        mailer: Mailer,
        signer: TokenSigner,
        public_url: str = "http://127.0.0.1:8000",
    ) -> None:
        self._public_url = public_url.rstrip("/")  # where the mails' links point (web app)
        self._store = store
        self._hasher = hasher
        self._sessions = sessions
        self._mailer = mailer
        self._signer = signer

    # -- email verification --------------------------------------------------------------

    def send_verification(self, user_id: UUID, *, at: datetime) -> int:
        """Mails a new verification token (valid 24 h; any earlier one stops working).
        ConflictError("email_already_verified") when there is nothing to verify."""

        def attempt() -> tuple[User, str, int]:
            user = self._user(user_id)
            token = self._issue(user, VERIFY_EMAIL, at + VERIFY_TTL, at)
            return user, token, self._store.record(user)

        user, token, position = retry_on_conflict(attempt)
        self._send(
            Mail(
                to=user.email,
                subject="Confirm your email for Rentbook",
                text="Confirm this address within 24 hours by opening\n\n"
                f"{self._public_url}/verify-email?token={token}\n\n"
                "or by sending the token below to POST /api/v1/auth/verify-email:\n\n"
                f"{token}\n",
                purpose=VERIFY_EMAIL,
                token=token,
            )
        )
        return position

    def verify_email(self, token: str, *, at: datetime) -> tuple[UUID, int]:
        """Marks the token's user verified; RuleViolation (`invalid_token`, `token_expired`)
        for a forged, expired, used or superseded token — and then records nothing."""
        claims = self._signer.read(token, VERIFY_EMAIL, at)

        def attempt() -> int:  # a racing use of the same token finds it consumed
            user = self._token_user(claims.user_id)
            user.verify_email(claims.token_id, at)
            return self._store.record(user)

        return claims.user_id, retry_on_conflict(attempt)

    # -- password reset ------------------------------------------------------------------

    def request_password_reset(self, email: str, *, at: datetime) -> int:
        """Mails a reset token (valid 1 h) when an active account has this email; says
        nothing either way, so accounts cannot be discovered. 0 when nothing was recorded."""

        def attempt() -> tuple[User | None, str, int]:
            user = self._find_active(email)
            if user is None:
                return None, "", 0
            token = self._issue(user, PASSWORD_RESET, at + RESET_TTL, at)
            return user, token, self._store.record(user)

        user, token, position = retry_on_conflict(attempt)
        if user is None:
            return 0
        self._send(
            Mail(
                to=user.email,
                subject="Reset your Rentbook password",
                text="Someone asked to reset your password. If it was you, send the token "
                "below with your new password to POST /api/v1/auth/password-reset/confirm "
                f"within an hour; otherwise ignore this mail.\n\n{token}\n",
                purpose=PASSWORD_RESET,
                token=token,
            )
        )
        return position

    def reset_password(self, token: str, new_password: str, *, at: datetime) -> tuple[UUID, int]:
        """Sets the password and ends every session of the user. A weak password or a
        forged, expired, used or superseded token is refused and nothing is recorded."""
        claims = self._signer.read(token, PASSWORD_RESET, at)
        check_password_strength(new_password)
        self._token_user(claims.user_id).check_live_token(PASSWORD_RESET, claims.token_id)
        password_hash = self._hasher.hash(new_password)  # slow: not inside the retry

        def attempt() -> int:  # a racing use of the same token finds it consumed
            user = self._token_user(claims.user_id)
            user.reset_password(claims.token_id, password_hash, at)
            return self._store.record(user)

        position = retry_on_conflict(attempt)
        self._sessions.revoke_all(claims.user_id)
        return claims.user_id, position

    # -- helpers -------------------------------------------------------------------------

    def _issue(self, user: User, purpose: str, expires_at: datetime, at: datetime) -> str:
        claims = self._signer.issue(purpose, user.id, expires_at)
        user.issue_token(purpose, claims.token_id, expires_at, at)
        return self._signer.sign(claims)

    def _send(self, mail: Mail) -> None:
        # The token is recorded: a lost mail is fixed by asking again, not by failing.
        try:
            self._mailer.send(mail)
        except Exception:
            log.exception("could not send the %s mail", mail.purpose)

    def _user(self, user_id: UUID) -> User:
        user: User = self._store.load(user_id, "user")
        return user

    def _token_user(self, user_id: UUID) -> User:
        try:
            return self._user(user_id)
        except NotFoundError:  # signed by us for a user that is gone
            raise RuleViolation("invalid_token", "the token's account does not exist") from None

    def _find_active(self, email: str) -> User | None:
        user = email_lookup.find_user(self._store, email)
        return user if user is not None and user.is_active else None
