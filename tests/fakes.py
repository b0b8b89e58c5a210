"""Fakes of our own ports, for tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from application.mailer import Mail, Mailer
from application.ports import Clock


class FakeClock(Clock):
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """`clock.advance(minutes=15)` or `clock.advance(timedelta(days=1))`."""
        with self._lock:
            self._now += (delta or timedelta()) + timedelta(**kwargs)
            return self._now

    def set(self, at: datetime) -> None:
        with self._lock:
            self._now = at


FrozenClock = FakeClock


class CapturingMailer(Mailer):
    """Keeps every mail; tests read tokens from it."""

    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self._lock = threading.Lock()

    def send(self, mail: Mail) -> None:
        with self._lock:
            self.sent.append(mail)

    def last_token(self, to: str, purpose: str) -> str:
        """The token of the newest `purpose` mail to `to` (compared case-insensitively)."""
        with self._lock:
            for mail in reversed(self.sent):
                if mail.to == to.lower() and mail.purpose == purpose and mail.token:
                    return mail.token
        raise AssertionError(f"no {purpose} mail to {to}")

    def to(self, address: str, purpose: str | None = None) -> list[Mail]:
        with self._lock:
            return [
                m
                for m in self.sent
                if m.to == address.lower() and (purpose is None or m.purpose == purpose)
            ]
