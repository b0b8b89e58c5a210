"""The default Mailer until real email is wired: writes each mail to the log.

Outside production the whole text (with its token) is logged, so a developer can verify an
address or reset a password by reading the log; in production only who and what kind, as a
token in a log would let anyone who reads the log take over the account."""

from __future__ import annotations

import logging

from application.mailer import Mail, Mailer

log = logging.getLogger("rentbook.mail")


class LoggingMailer(Mailer):
    def __init__(self, *, reveal: bool = False) -> None:
        self.reveal = reveal

    def send(self, mail: Mail) -> None:
        if self.reveal:
            log.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.text)
        else:
            log.info("mail (%s) to %s: %s [not delivered]", mail.purpose, mail.to, mail.subject)
