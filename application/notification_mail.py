"""Notification email: the dispatcher that turns outbox rows into jobs, and the job that
sends one row's mail.

The guarantee: AT-LEAST-ONCE delivery to the mail server, every copy DEDUPLICABLE by its
Message-ID (derived from the outbox row, so a resend is recognisably the same message), and
EXACTLY ONCE `sent` per row in our store. The outbox row's id is derived from (event,
recipient) (a rebuild writes the same ids), and its delivery state lives OUTSIDE the view:

    pending --claim--> sending --SMTP accepted--> sent
                          |--SMTP refused / unreachable (exception)--> pending (retried)
                          '--worker killed mid-send--> sending until the lease runs out,
                             then reclaimed by the next dispatch (same Message-ID)

`claim` is one conditional write, so two workers (a retry racing a slow first attempt, two
dispatchers) cannot both hold a row; a job that finds its row `sending` under a live lease
leaves it alone. A claim lapses after a lease (settings: 10 minutes, far above the SMTP
timeout), so a worker SIGKILLed mid-send cannot strand a mail. The one duplicate we allow:
a worker killed after the server accepted the mail and before `sent` was written; the
resend carries the same Message-ID, which receiving servers de-duplicate (Gmail does) and
which an admin can match in the mail server's log.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from uuid import UUID

from application.jobs import JobQueue

log = logging.getLogger(__name__)

SEND_JOB = "send_notification_email"
CLAIMED, SENT, SENDING, SKIPPED, MISSING = "claimed", "sent", "sending", "skipped", "missing"


@dataclass(frozen=True)
class OutboxMail:
    """One outbox row: who gets which notification's mail, with its data."""

    id: UUID
    recipient_id: UUID
    kind: str
    to_address: str | None
    name: str | None
    locale: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class OutboxStore(ABC):
    """Outbox rows (the view) and their delivery state (outside it)."""

    @abstractmethod
    def pending(self, limit: int) -> list[UUID]:
        """Outbox ids never attempted, oldest first. A row released after a refused send
        is its job's to retry (backoff), then an admin's (failed registry): never the
        dispatcher's, so rows that keep failing cannot crowd out new ones."""

    @abstractmethod
    def expired(self, limit: int) -> list[tuple[UUID, int]]:
        """(outbox id, attempts) of rows whose `sending` claim outlived its lease: their
        worker died. The attempts count names the reclaim (one job per lapse)."""

    @abstractmethod
    def get(self, outbox_id: UUID) -> OutboxMail | None: ...

    @abstractmethod
    def claim(self, outbox_id: UUID) -> tuple[str, int]:
        """pending (or sending with a lapsed lease) -> sending in one conditional write:
        (CLAIMED, this claim's attempt number), or the state that stopped it (SENT,
        SENDING, SKIPPED) with the current number."""

    # The moves out of `sending` take the claim's attempt: a worker whose lease lapsed and
    # was reclaimed by another moves nothing (it cannot mark sent, or re-open, the new
    # holder's send).
    @abstractmethod
    def mark_sent(self, outbox_id: UUID, message_id: str, *, attempt: int) -> None: ...

    @abstractmethod
    def release(self, outbox_id: UUID, error: str, *, attempt: int) -> None:
        """sending -> pending: the mail server never accepted it."""

    @abstractmethod
    def skip(self, outbox_id: UUID, reason: str, *, attempt: int) -> None: ...

    @abstractmethod
    def wants_email(self, user_id: UUID, kind: str) -> bool:
        """The user's preference (transactional kinds are always wanted)."""


class MailTransport(ABC):
    """Hands a message to the mail system; raises when it was not accepted."""

    @abstractmethod
    def send(self, message: EmailMessage) -> None: ...


class MailRenderer(ABC):
    @abstractmethod
    def render(self, mail: OutboxMail) -> Rendered: ...


class NotificationMailer:
    def __init__(
        self,
        outbox: OutboxStore,
        transport: MailTransport,
        renderer: MailRenderer,
        *,
        sender: str,
    ) -> None:
        self.outbox = outbox
        self.transport = transport
        self.renderer = renderer
        self.sender = sender

    def register(self, jobs: JobQueue) -> None:
        jobs.register(SEND_JOB, self.send)

    def dispatch(self, jobs: JobQueue, limit: int = 200) -> int:
        """Enqueues a job per pending outbox row; the job id is the row, so a row already
        queued, running, retrying or failed is not queued twice. A row whose claim lapsed
        gets a job named by its attempts: its first job is known to the queue (dead with
        its worker), and two dispatchers seeing the same lapse queue one job."""
        ids = self.outbox.pending(limit)
        for outbox_id in ids:
            jobs.enqueue(SEND_JOB, {"outbox_id": str(outbox_id)}, job_id=f"mail:{outbox_id}")
        lapsed = self.outbox.expired(limit)
        for outbox_id, attempts in lapsed:
            job_id = f"mail:{outbox_id}:{attempts}"
            jobs.enqueue(SEND_JOB, {"outbox_id": str(outbox_id)}, job_id=job_id)
        return len(ids) + len(lapsed)

    def message_id(self, outbox_id: UUID) -> str:
        domain = self.sender.rpartition("@")[2].strip("> ") or "rentbook.local"
        return f"<{outbox_id}@{domain}>"

    def send(self, outbox_id: str) -> dict[str, Any]:
        """The job: sends one outbox row's mail unless it was sent, is being sent, or is
        not wanted."""
        key = UUID(outbox_id)
        mail = self.outbox.get(key)
        if mail is None:
            return {"status": MISSING}
        state, attempt = self.outbox.claim(key)
        if state != CLAIMED:  # SENDING: another worker holds a live claim
            return {"status": state}
        if not mail.to_address or not self.outbox.wants_email(mail.recipient_id, mail.kind):
            reason = "no address" if not mail.to_address else "turned off"
            self.outbox.skip(key, reason, attempt=attempt)
            return {"status": SKIPPED}
        message = self.build(mail)
        try:
            self.transport.send(message)
        except Exception as error:
            self.outbox.release(key, repr(error), attempt=attempt)  # not accepted: try again
            raise
        # Accepted. Anything failing from here on leaves the row `sending` until its lease
        # lapses; the resend then carries this same Message-ID.
        self.outbox.mark_sent(key, str(message["Message-ID"]), attempt=attempt)
        return {"status": SENT, "message_id": str(message["Message-ID"])}

    def build(self, mail: OutboxMail) -> EmailMessage:
        rendered = self.renderer.render(mail)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to_address or ""
        message["Subject"] = rendered.subject
        message["Message-ID"] = self.message_id(mail.id)
        message["Date"] = formatdate(localtime=False)
        message["X-Rentbook-Notification"] = mail.kind
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message
