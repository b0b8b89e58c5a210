"""The key ring port: per-subject data keys kept outside the event log (crypto-shredding)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from uuid import UUID


class KeyRing(ABC):
    """Seals and opens personal data with the subject's key. Destroying a key is final:
    whatever was sealed with it can never be opened again, and nothing new is sealed for
    that subject (a tombstone stays)."""

    @abstractmethod
    def seal(self, subject: UUID, aad: bytes, plaintext: bytes) -> bytes | None:
        """The ciphertext, creating the subject's key on first use; None once erased."""

    @abstractmethod
    def open(self, subject: UUID, aad: bytes, ciphertext: bytes) -> bytes | None:
        """The plaintext; None when the subject's key was destroyed."""

    @abstractmethod
    def is_destroyed(self, subject: UUID) -> bool:
        """Whether the subject was erased (their key destroyed)."""

    @abstractmethod
    def destroy(self, subject: UUID) -> bool:
        """Destroys the key (True when there was one to destroy)."""

    @abstractmethod
    def forget(self, subject: UUID) -> None:
        """Drops any cached copy of the key (another process may have destroyed it)."""

    def preload(self, subjects: Iterable[UUID]) -> None:  # noqa: B027 (optional)
        """Fetches these subjects' keys in one go before a page of events is read;
        a key ring without a cache to fill needs nothing."""

    @abstractmethod
    def lookup_secret(self) -> bytes:
        """A stable secret for keyed lookups (the email index), kept with the keys."""
