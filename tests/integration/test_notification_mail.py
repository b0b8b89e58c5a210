"""Notification mail end to end through a REAL SMTP server (aiosmtpd on a free port),
parsed with the email package: exactly once under job retries, a worker killed between the
server's acceptance and the `sent` mark (a real SIGKILL: test_mail_worker_kill), and a
projection rebuild; preferences respected; transactional mail cannot be turned off. Views on
SQLite here (PostgreSQL: the _postgres module)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from babel.numbers import format_currency
from sqlalchemy import Engine

from application.jobs import InlineJobQueue, RetryPolicy
from application.mailer import Mail
from application.notification_mail import MailTransport, NotificationMailer
from domain.errors import RuleViolation
from domain.notifications import outbox_id
from infrastructure.mail_outbox import SqlOutboxStore
from infrastructure.mail_render import JinjaMailRenderer
from infrastructure.mail_smtp import FileTransport, SmtpTransport, TransportMailer
from infrastructure.notification_store import NotificationStore
from infrastructure.views_db import create_views_engine
from tests.builders import NOW
from tests.notification_builders import NotifyWorld, SmtpServer, notify_world

SENDER = "Rentbook <no-reply@rentbook.test>"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_views_engine(f"sqlite:///{tmp_path / 'views.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


class Flaky(MailTransport):
    """Refuses the first `failures` messages the way a busy server does, then delivers."""

    def __init__(self, inner: MailTransport, failures: int) -> None:
        self.inner, self.failures = inner, failures

    def send(self, message: EmailMessage) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise smtplib.SMTPServerDisconnected("connection lost before DATA")
        self.inner.send(message)


class DiesAfterAccept(SqlOutboxStore):
    """The worker is killed after the server accepted the mail, before it marked it sent:
    here the `sent` write fails once, which leaves the row exactly as a kill would."""

    died = False

    def mark_sent(self, outbox_id: UUID, message_id: str, *, attempt: int) -> None:
        if not self.died:
            self.died = True
            raise SystemError("worker killed")
        super().mark_sent(outbox_id, message_id, attempt=attempt)


class Mailing:
    def __init__(self, nw: NotifyWorld, transport: MailTransport, outbox_cls: Any = None) -> None:
        self.nw = nw
        view = nw.runner.tables("notifications")
        self.store = NotificationStore(nw.engine, view)
        self.outbox = (outbox_cls or SqlOutboxStore)(nw.engine, view, self.store)
        self.mailer = NotificationMailer(self.outbox, transport, JinjaMailRenderer(), sender=SENDER)
        self.jobs = InlineJobQueue(RetryPolicy(max_retries=3, base_delay=0))
        self.mailer.register(self.jobs)

    def dispatch(self) -> int:
        self.nw.runner.catch_up()
        return self.mailer.dispatch(self.jobs)

    def email_of(self, user: UUID) -> str:
        return str(self.nw.world.store.load(user, "user").email)


def smtp_transport(server: SmtpServer) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", server.port, security="none")


def test_a_confirmed_booking_mails_both_parties_a_receipt(engine: Engine, smtp: SmtpServer) -> None:
    m = Mailing(notify_world(engine), smtp_transport(smtp))
    booking_id = m.nw.instant()
    m.nw.confirm(booking_id)
    assert m.dispatch() == 3  # the owner's listing approval and both receipts

    mails = smtp.inbox.to(m.email_of(m.nw.renter.id))
    assert len(mails) == 1
    mail = mails[0]
    row = next(r for r in m.nw.rows() if r["recipient_id"] == m.nw.renter.id)
    assert mail["Subject"].startswith("Booking confirmed: ")
    assert mail["Message-ID"] == f"<{outbox_id(row['id'])}@rentbook.test>"
    assert mail["X-Rentbook-Notification"] == "booking_confirmed"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    total = format_currency(row["data"]["total"] / 100, "EUR", locale="en")
    assert "Hello Rita Renter" in text and total in text
    assert "Jun 10, 2026" in text  # the listing's dates, in the renter's locale
    assert "<p>Hello Rita Renter,</p>" in html and total in html
    assert len(smtp.inbox.to(m.email_of(m.nw.owner.id))) == 2  # approval and receipt


def test_dates_and_money_follow_the_recipients_locale(engine: Engine, smtp: SmtpServer) -> None:
    m = Mailing(notify_world(engine), smtp_transport(smtp))
    user = m.nw.world.store.load(m.nw.renter.id, "user")
    user.update_profile(languages=["de"], at=NOW)
    m.nw.world.store.record(user)
    m.nw.confirm(m.nw.instant())
    m.dispatch()
    (mail,) = smtp.inbox.to(m.email_of(m.nw.renter.id))
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "10.06.2026" in text and "€" in text and "," in text.split("€")[0][-4:]


def test_a_refused_send_is_retried_and_delivered_once(engine: Engine, smtp: SmtpServer) -> None:
    m = Mailing(notify_world(engine), Flaky(smtp_transport(smtp), failures=2))
    m.nw.request()
    m.dispatch()

    assert len(smtp.inbox.to(m.email_of(m.nw.owner.id))) == 2  # listing approved + request
    states = [m.outbox.state(i) for i in _all_outbox(m)]
    assert {s["state"] for s in states if s} == {"sent"}
    assert max(s["attempts"] for s in states if s) == 3  # two refusals, then accepted
    assert m.jobs.failed() == []


def _all_outbox(m: Mailing) -> list[UUID]:
    return [r["id"] for r in m.nw.rows("outbox")]


def test_a_worker_killed_after_the_server_accepted_resends_the_same_message_after_the_lease(
    engine: Engine, smtp: SmtpServer
) -> None:
    m = Mailing(notify_world(engine), smtp_transport(smtp), DiesAfterAccept)
    m.nw.world.active_listing()  # one notification: listing approved
    m.dispatch()

    # The first attempt delivered and "died"; its retry found the row `sending` under a
    # live claim and left it alone: one mail, nothing failed, nothing new to dispatch.
    assert len(smtp.inbox.messages) == 1 and m.jobs.failed() == []
    (row,) = _all_outbox(m)
    assert m.outbox.state(row)["state"] == "sending"  # type: ignore[index]
    assert m.dispatch() == 0

    m.outbox.lease = timedelta(0)  # the claim's lease ran out
    assert m.dispatch() == 1
    first, again = smtp.inbox.messages
    assert first["Message-ID"] == again["Message-ID"] == f"<{row}@rentbook.test>"
    state = m.outbox.state(row)
    assert state is not None and (state["state"], state["attempts"]) == ("sent", 2)
    assert m.dispatch() == 0 and len(smtp.inbox.messages) == 2


def test_a_projection_rebuild_sends_no_second_mail(engine: Engine, smtp: SmtpServer) -> None:
    m = Mailing(notify_world(engine), smtp_transport(smtp))
    m.nw.confirm(m.nw.instant())
    m.dispatch()
    sent = len(smtp.inbox.messages)

    m.nw.runner.rebuild("notifications")
    fresh = Mailing(m.nw, smtp_transport(smtp))  # a new process: no job ids remembered
    assert fresh.dispatch() == 0
    for outbox_row in _all_outbox(m):  # even a job run by hand is a no-op
        assert fresh.mailer.send(str(outbox_row)) == {"status": "sent"}
    assert len(smtp.inbox.messages) == sent == 3


def test_mail_a_user_turned_off_is_skipped_and_in_app_can_be_muted(
    engine: Engine, smtp: SmtpServer
) -> None:
    m = Mailing(notify_world(engine), smtp_transport(smtp))
    renter = m.nw.renter.id
    m.store.set_preferences(renter, [("booking_approved", "email", False)])
    m.store.set_preferences(renter, [("booking_approved", "in_app", False)])
    booking_id = m.nw.request()
    m.nw.world.bookings.approve(m.nw.owner, booking_id, NOW + timedelta(hours=1))
    m.dispatch()

    assert smtp.inbox.to(m.email_of(renter)) == []
    approved = next(r for r in m.nw.rows("outbox") if r["recipient_id"] == renter)
    assert m.outbox.state(approved["id"])["state"] == "skipped"  # type: ignore[index]
    rows, unread = m.store.page(renter, 10, None)
    assert rows == [] and unread == 0  # muted in-app: neither listed nor counted


def test_transactional_mail_cannot_be_turned_off(engine: Engine, smtp: SmtpServer) -> None:
    m = Mailing(notify_world(engine), smtp_transport(smtp))
    renter = m.nw.renter.id
    with pytest.raises(RuleViolation) as refused:
        m.store.set_preferences(
            renter, [("booking_approved", "email", False), ("booking_confirmed", "email", False)]
        )
    assert refused.value.code == "transactional_mail"
    assert m.store.enabled(renter, "booking_approved", "email")  # all or nothing
    m.nw.confirm(m.nw.instant())
    m.dispatch()
    assert len(smtp.inbox.to(m.email_of(renter))) == 1


def test_account_mail_goes_through_the_same_smtp_transport(smtp: SmtpServer) -> None:
    mailer = TransportMailer(smtp_transport(smtp), SENDER)
    mailer.send(Mail("ana@example.com", "Verify your email", "token: abc", "verify_email", "abc"))
    (mail,) = smtp.inbox.to("ana@example.com")
    assert mail["Subject"] == "Verify your email"
    assert mail["X-Rentbook-Notification"] == "verify_email"
    assert "token: abc" in mail.get_content()  # type: ignore[attr-defined]


def test_the_file_transport_writes_eml_files_that_parse_back(tmp_path: Path) -> None:
    import email
    from email.policy import default

    mailer = TransportMailer(FileTransport(tmp_path / "mail"), SENDER)
    mailer.send(Mail("ana@example.com", "Reset your password", "token: x", "password_reset"))
    (path,) = (tmp_path / "mail").glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes(), policy=default)
    assert parsed["To"] == "ana@example.com" and parsed["Subject"] == "Reset your password"


def test_history_from_before_email_was_enabled_is_never_mailed(
    engine: Engine, smtp: SmtpServer
) -> None:
    nw = notify_world(engine)
    nw.confirm(nw.instant())  # three notifications recorded before the outbox existed
    nw.runner.catch_up()
    view = nw.runner.tables("notifications")
    started = nw.world.store.current_position()
    SqlOutboxStore(engine, view, NotificationStore(engine, view), start_position=started)
    m = Mailing(nw, smtp_transport(smtp))  # a later start keeps the first start's horizon
    assert m.outbox.horizon == started
    assert m.dispatch() == 0
    nw.world.bookings.cancel(nw.renter, nw.world.bookings.get(_booking(nw)).id, "x", NOW)
    assert m.dispatch() == 1 and len(smtp.inbox.messages) == 1  # the owner hears of it


def _booking(nw: NotifyWorld) -> UUID:
    return next(UUID(r["data"]["booking_id"]) for r in nw.rows() if "booking_id" in r["data"])
