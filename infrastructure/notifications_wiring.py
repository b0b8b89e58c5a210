"""Wires notifications for the composition root: the per-user store, the email outbox and
its dispatcher (woken by each page of the notifications view, polling as a fallback), the
send job on the shared job queue, and the mail transport (SMTP or .eml files)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from application.jobs import JobQueue
from application.notification_mail import MailTransport, NotificationMailer
from infrastructure.mail_outbox import SqlOutboxStore
from infrastructure.mail_render import JinjaMailRenderer
from infrastructure.mail_smtp import FileTransport, SmtpTransport
from infrastructure.notification_store import NotificationStore
from infrastructure.settings import Settings
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


def build_transport(settings: Settings) -> MailTransport:
    if settings.smtp_host:
        return SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password,
            ca_file=settings.smtp_ca_file,
        )
    return FileTransport(settings.mail_root)


@dataclass
class NotificationsWiring:
    store: NotificationStore
    outbox: SqlOutboxStore
    mailer: NotificationMailer
    jobs: JobQueue
    wake: threading.Event = field(default_factory=threading.Event)

    def dispatch(self) -> int:
        """Queues a send job for every pending outbox row; returns how many."""
        return self.mailer.dispatch(self.jobs)

    def run_forever(self, stop: threading.Event, interval: float = 5.0) -> None:
        while not stop.is_set():
            self.wake.clear()
            try:
                self.dispatch()
            except Exception:
                log.exception("notification mail dispatch failed")
            self.wake.wait(interval)

    def start(self, stop: threading.Event, interval: float = 5.0) -> threading.Thread:
        def on_stop() -> None:
            stop.wait()
            self.wake.set()

        threading.Thread(target=on_stop, name="notify-stop", daemon=True).start()
        thread = threading.Thread(
            target=self.run_forever, args=(stop, interval), name="notify-mail", daemon=True
        )
        thread.start()
        return thread


def build_notifications(
    settings: Settings,
    views: Engine,
    runner: ProjectionRunner,
    jobs: JobQueue,
    transport: MailTransport,
    start_position: int = 0,
) -> NotificationsWiring:
    view = runner.tables("notifications")
    store = NotificationStore(views, view)
    lease = timedelta(seconds=settings.mail_claim_lease_seconds)
    outbox = SqlOutboxStore(views, view, store, start_position=start_position, lease=lease)
    mailer = NotificationMailer(outbox, transport, JinjaMailRenderer(), sender=settings.mail_from)
    mailer.register(jobs)
    wiring = NotificationsWiring(store, outbox, mailer, jobs)

    def on_page(name: str, _position: int) -> None:
        if name == "notifications":
            wiring.wake.set()

    runner.page_hooks.append(on_page)
    return wiring
