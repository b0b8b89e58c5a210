"""`rentbook worker` as docker-compose runs it (its own process, PostgreSQL + Redis): a
notification mail queued by another process is sent by the worker over SMTP to a server
the test runs, and SIGTERM (what `docker compose stop` sends) stops the worker cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from tests.e2e.served import ROOT
from tests.e2e.test_serve_workers_postgres import CHEAP_ARGON2, _active_listing, _env
from tests.notification_builders import SmtpServer
from tests.polling import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
# The worker imports the whole app before it takes a job; the machine is shared.
STARTUP_SECONDS = 180.0
# It stops in about two seconds; rq's pub/sub listener used to hold it up to 60 s, past
# the 10 s `docker compose stop` waits before it kills.
STOP_SECONDS = 30.0


def _exit_code(worker: subprocess.Popen[bytes], log: Path) -> int:
    """The worker's exit code after SIGTERM; it is killed (and the test fails) when it
    has not stopped within STOP_SECONDS."""
    try:
        return worker.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        pytest.fail(f"SIGTERM did not stop the worker:\n{log.read_text(errors='replace')}")


def test_the_worker_command_sends_a_queued_mail_and_stops_on_sigterm(
    pg_settings: Settings, tmp_path: Path
) -> None:
    with SmtpServer() as smtp:
        smtp_env = {"host": "127.0.0.1", "port": smtp.port, "security": "none"}
        settings = pg_settings.model_copy(update={f"smtp_{k}": v for k, v in smtp_env.items()})
        container = build_container(settings, **CHEAP_ARGON2)  # no worker of its own
        try:
            _active_listing(container)  # approved: its owner is notified, in-app and by mail
            container.runner.catch_up()  # the notifications view fills the mail outbox
            wiring = container.notifications
            assert wiring is not None
            (row,) = [
                row for i in wiring.outbox.pending(10)
                if (row := wiring.outbox.get(i)) and row.kind == "listing_approved"
            ]  # fmt: skip
            outbox_id, owner_email = row.id, row.to_address
            assert wiring.dispatch() >= 1  # send jobs queued on Redis, for any worker

            env = {**os.environ, "PYTHONPATH": str(ROOT), **_env(settings)}
            env |= {f"RENTBOOK_SMTP_{k.upper()}": str(v) for k, v in smtp_env.items()}
            log = tmp_path / "worker.log"
            with log.open("wb") as out:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "interfaces.cli.main", "worker"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            try:
                (mail,) = eventually(
                    lambda: [
                        m for m in smtp.inbox.to(owner_email)
                        if m["X-Rentbook-Notification"] == "listing_approved"
                    ],
                    "the listing_approved mail through the worker",
                    timeout=STARTUP_SECONDS,
                    seen=lambda: log.read_text(errors="replace"),
                )  # fmt: skip
                assert mail["Subject"] and owner_email in str(mail["To"])
                assert worker.poll() is None, log.read_text()  # still waiting for work
            finally:
                worker.send_signal(signal.SIGTERM)
                code = _exit_code(worker, log)
            output = log.read_text(errors="replace")
            assert code == 0, output
            assert "worker running" in output and "Traceback" not in output, output
            assert (wiring.outbox.state(outbox_id) or {}).get("state") == "sent"
        finally:
            container.close()
