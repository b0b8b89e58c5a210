"""Capability links (a shared wishlist, a calendar export): tokens derived by HMAC from the
settings' secret, a purpose, the subject's id and a generation.

Nothing secret is stored: the subject's aggregate keeps only its generation, and rotating
(a new generation) or revoking makes every older token fail. The subject's id is in the
token so a link alone finds what it opens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from uuid import UUID

_MAC_BYTES = 18  # 144 bits: unguessable, and the token stays 46 characters


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class LinkTokens:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def _mac(self, purpose: str, subject: UUID, generation: int) -> bytes:
        key = hmac.new(self._secret, b"rentbook-link:" + purpose.encode(), hashlib.sha256)
        body = f"{subject}:{generation}".encode()
        return hmac.new(key.digest(), body, hashlib.sha256).digest()[:_MAC_BYTES]

    def issue(self, purpose: str, subject: UUID, generation: int) -> str:
        return _b64(subject.bytes + self._mac(purpose, subject, generation))

    @staticmethod
    def subject_of(token: str) -> UUID | None:
        """The id a token names, or None when it is not shaped like one of ours."""
        if not 40 <= len(token) <= 64:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        return UUID(bytes=raw[:16]) if len(raw) == 16 + _MAC_BYTES else None

    def verify(self, purpose: str, token: str, subject: UUID, generation: int) -> bool:
        if self.subject_of(token) != subject:
            return False
        return hmac.compare_digest(token, self.issue(purpose, subject, generation))
