"""The logging mailer: the whole mail (with its token) outside production, never a token in
a production log."""

from __future__ import annotations

import logging

import pytest

from application.mailer import Mail
from infrastructure.mail_logging import LoggingMailer

MAIL = Mail("ada@example.com", "Confirm", "send this: tok.en", "verify_email", "tok.en")


def test_outside_production_the_log_carries_the_token(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rentbook.mail"):
        LoggingMailer(reveal=True).send(MAIL)
    assert "tok.en" in caplog.text and "ada@example.com" in caplog.text


def test_in_production_the_log_never_carries_the_token(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rentbook.mail"):
        LoggingMailer().send(MAIL)
    assert "tok.en" not in caplog.text and "verify_email" in caplog.text
