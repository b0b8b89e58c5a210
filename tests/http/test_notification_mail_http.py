"""The whole notification mail path in a running app (embedded default, in-process jobs):
a request over HTTP reaches the owner's inbox on a real SMTP server; when the server is
down the send job runs out of retries into `GET /admin/jobs/failed`, and an admin's retry
delivers it once the server is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from tests.fakes import CapturingMailer, FakeClock
from tests.http.conftest import API, CHEAP_ARGON2, Api, https_client, make_app
from tests.http.test_bookings_http import Market, open_listing
from tests.notification_builders import SmtpServer, free_port
from tests.polling import eventually


@contextmanager
def running_api(tmp_path: Path, port: int, **settings: Any) -> Iterator[Api]:
    config = Settings(
        environment="test",
        data_dir=tmp_path / "var",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="Rentbook <mail@rentbook.test>",
        **settings,
    )
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    container = build_container(config, clock=clock, mailer=CapturingMailer(), **CHEAP_ARGON2)
    container.start_workers(scheduler_interval=0.2)
    try:
        with https_client(make_app(container)) as client:
            yield Api(client, container, clock)
    finally:
        container.close()


def request_booking(api: Api) -> Market:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    m = Market(api, owner, admin, renter, open_listing(api, owner, admin, booking_mode="request"))
    m.placed()
    return m


def kinds(server: SmtpServer, address: str) -> list[str]:
    return [str(m["X-Rentbook-Notification"]) for m in server.inbox.to(address)]


def test_a_booking_request_reaches_the_owner_over_smtp(tmp_path: Path) -> None:
    with SmtpServer() as server, running_api(tmp_path, server.port) as api:
        m = request_booking(api)
        eventually(lambda: "booking_requested" in kinds(server, m.owner.email), "the request mail")
        (mail,) = [
            x
            for x in server.inbox.to(m.owner.email)
            if x["X-Rentbook-Notification"] == "booking_requested"
        ]
        assert mail["From"] == "Rentbook <mail@rentbook.test>"
        assert mail["Message-ID"].endswith("@rentbook.test>")
        time.sleep(1)  # several dispatcher rounds later: still one mail per notification
        assert sorted(kinds(server, m.owner.email)) == [
            "booking_requested",
            "listing_approved",
        ]


@pytest.fixture
def down_port() -> int:
    return free_port()  # nothing listens there until the test starts a server


def test_mail_that_cannot_be_sent_is_in_the_failed_registry_and_an_admin_retry_sends_it(
    tmp_path: Path, down_port: int
) -> None:
    with running_api(tmp_path, down_port, job_max_retries=1, job_backoff=0.01) as api:
        owner, admin = api.new_user(), api.admin()
        open_listing(api, owner, admin)  # notifies the owner: listing approved

        def failed() -> list[dict[str, Any]]:
            r = api.client.get(f"{API}/admin/jobs/failed", headers=admin.headers)
            assert r.status_code == 200, r.text
            return [j for j in r.json()["data"] if j["name"] == "send_notification_email"]

        (job,) = eventually(failed, "the failed mail job")
        assert job["id"].startswith("mail:") and job["attempts"] == 2
        assert "Connection refused" in job["error"] or "Errno" in job["error"]

        with SmtpServer(down_port) as server:
            r = api.client.post(f"{API}/admin/jobs/{job['id']}/retry", headers=admin.headers)
            assert r.status_code == 200, r.text
            eventually(
                lambda: kinds(server, owner.email) == ["listing_approved"], "the retried mail"
            )
            assert failed() == []
