"""Signed, expiring tokens for email verification and password reset (HMAC-SHA256).

A token names its purpose, user, a random token id and its expiry, and is signed with a key
derived from the settings' secret and the purpose, so a token made for one purpose never
verifies for another. Expiry is checked against the application's clock (which may be
moved in demos), not the system's. Single use is not the signer's job: the User's event
log holds the one live token id per purpose."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from domain.errors import RuleViolation

MAX_TOKEN_LENGTH = 512
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class TokenClaims:
    purpose: str
    user_id: UUID
    token_id: str
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid() -> RuleViolation:
    return RuleViolation("invalid_token", "the token is used, superseded or invalid")


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def _mac(self, purpose: str, body: str) -> bytes:
        key = hmac.new(self._secret, b"rentbook-token:" + purpose.encode(), hashlib.sha256)
        return hmac.new(key.digest(), body.encode(), hashlib.sha256).digest()

    def issue(self, purpose: str, user_id: UUID, expires_at: datetime) -> TokenClaims:
        """New claims with a fresh random token id."""
        return TokenClaims(purpose, user_id, secrets.token_urlsafe(16), expires_at)

    def sign(self, claims: TokenClaims) -> str:
        expires = int(claims.expires_at.timestamp())
        payload = f"{claims.purpose}|{claims.user_id}|{claims.token_id}|{expires}"
        body = _b64(payload.encode())
        return f"{body}.{_b64(self._mac(claims.purpose, body))}"

    def read(self, token: str, purpose: str, at: datetime) -> TokenClaims:
        """The claims of a genuine, unexpired token of `purpose`; RuleViolation
        (`invalid_token`, `token_expired`) otherwise."""
        if len(token) > MAX_TOKEN_LENGTH or not _SHAPE.fullmatch(token):
            raise _invalid()
        body, mac = token.split(".")
        try:
            genuine = hmac.compare_digest(_unb64(mac), self._mac(purpose, body))
            fields = _unb64(body).decode().split("|") if genuine else []
            if len(fields) != 4 or fields[0] != purpose:
                raise _invalid()
            claims = TokenClaims(
                purpose, UUID(fields[1]), fields[2], datetime.fromtimestamp(int(fields[3]), UTC)
            )
        except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
            raise _invalid() from None
        if at >= claims.expires_at:
            raise RuleViolation("token_expired", "the token has expired; ask for a new one")
        return claims
