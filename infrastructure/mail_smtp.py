"""Mail transports (SMTP, or .eml files on the embedded default) and the Mailer adapter
that sends account mail (verification, password reset) through the same transport."""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Literal

from application.mailer import Mail, Mailer
from application.notification_mail import MailTransport

log = logging.getLogger("rentbook.mail")
Security = Literal["none", "starttls", "tls"]


class SmtpTransport(MailTransport):
    """One connection per message: jobs are independent and may run in any worker."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: Security = "starttls",
        user: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ca_file: Path | None = None,
    ) -> None:
        """`ca_file`: trust this CA bundle instead of the system's (a private relay);
        the certificate and its host name are verified either way."""
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout
        self.ca_file = ca_file

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context(cafile=self.ca_file)
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)  # raises unless the server accepted every recipient


class FileTransport(MailTransport):
    """Writes each message to `<directory>/<message id>.eml` (the embedded default):
    written to a temporary name and renamed, so a reader never sees half a mail."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        raw = str(message["Message-ID"] or uuid.uuid4()).strip("<>")
        name = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in raw)
        path = self.directory / f"{name}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.replace(path)


class TransportMailer(Mailer):
    """Account mail, sent at once (its token is a secret: not kept in an outbox)."""

    def __init__(self, transport: MailTransport, sender: str) -> None:
        self.transport = transport
        self.sender = sender

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        domain = self.sender.rpartition("@")[2].strip("> ") or "rentbook.local"
        message["Message-ID"] = f"<{uuid.uuid4()}@{domain}>"
        message["X-Rentbook-Notification"] = mail.purpose
        message.set_content(mail.text)
        self.transport.send(message)
        log.info("mail (%s) to %s: %s", mail.purpose, mail.to, mail.subject)
