"""The Mailer port: how account mails (verification, password reset) leave the system.

Adapters: a logging mailer (the default until real email is wired) in infrastructure, a
capturing fake in tests."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    purpose: str  # verify_email | password_reset: lets fakes and logs tell mails apart
    token: str | None = None  # the secret the mail carries, for adapters that template it


class Mailer(ABC):
    @abstractmethod
    def send(self, mail: Mail) -> None:
        """Delivers (or queues) the mail; raises when it cannot."""
