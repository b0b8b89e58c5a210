"""A mail worker in its own process, for the SIGKILL test (test_mail_worker_kill):
`python -m tests.mail_worker VIEWS_URL SMTP_PORT LEASE_SECONDS OUTBOX_ID send|dispatch`.

`send` runs the row's send job once (the test kills it mid-DATA); `dispatch` runs the
dispatcher until the row is `sent` (bounded by 30 s), as a worker started after a crash."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from uuid import UUID

from application.jobs import InlineJobQueue, RetryPolicy
from application.notification_mail import NotificationMailer
from infrastructure.mail_outbox import SqlOutboxStore
from infrastructure.mail_render import JinjaMailRenderer
from infrastructure.mail_smtp import SmtpTransport
from infrastructure.notification_store import NotificationStore
from infrastructure.views_db import create_views_engine
from projections.base import new_metadata
from projections.notifications import NotificationsView

SENDER = "Rentbook <no-reply@rentbook.test>"


def main(url: str, port: str, lease: str, outbox_id: str, mode: str) -> int:
    engine = create_views_engine(url, pool_size=2)
    view = NotificationsView().define_tables(new_metadata(), "")
    store = NotificationStore(engine, view)
    outbox = SqlOutboxStore(engine, view, store, lease=timedelta(seconds=float(lease)))
    transport = SmtpTransport("127.0.0.1", int(port), security="none", timeout=60)
    mailer = NotificationMailer(outbox, transport, JinjaMailRenderer(), sender=SENDER)
    if mode == "send":
        print(mailer.send(outbox_id), flush=True)
        return 0
    jobs = InlineJobQueue(RetryPolicy(max_retries=0, base_delay=0))
    mailer.register(jobs)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mailer.dispatch(jobs)
        state = outbox.state(UUID(outbox_id))
        if state and state["state"] == "sent":
            print(state, flush=True)
            return 0
        time.sleep(0.1)  # polling the lease, as the scheduler's dispatch loop does
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
