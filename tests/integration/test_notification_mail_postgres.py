"""Notification mail on the production shape: views on PostgreSQL, jobs on rq (Redis),
a real SMTP server. Racing workers send once; rq retries a refused send with backoff and
delivers once; a send that keeps failing lands in rq's failed-job registry (what
`GET /admin/jobs/failed` lists) and an admin's retry delivers it; a rebuild sends nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from application.jobs import RetryPolicy
from infrastructure.jobs_rq import RqJobQueue
from infrastructure.views_db import create_views_engine
from tests.integration.test_notification_mail import Flaky, Mailing, smtp_transport
from tests.notification_builders import SmtpServer, notify_world

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = create_views_engine(pg_url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def rq(redis_url: str, redis_prefix: str) -> Iterator[RqJobQueue]:
    client = redis.Redis.from_url(redis_url)
    queue = RqJobQueue(client, prefix=redis_prefix, policy=RetryPolicy(2, base_delay=0))
    yield queue
    queue.close()
    client.close()


def on_rq(m: Mailing, queue: RqJobQueue) -> Mailing:
    m.jobs = queue  # type: ignore[assignment]
    m.mailer.register(queue)
    return m


def work(queue: RqJobQueue) -> None:
    for _ in range(4):  # retries with no interval are queued again at once
        queue.work(burst=True)


def test_eight_workers_racing_for_one_mail_send_it_once(engine: Engine, smtp: SmtpServer) -> None:
    m = Mailing(notify_world(engine), smtp_transport(smtp))
    m.nw.world.active_listing()
    m.nw.runner.catch_up()
    (outbox_id,) = m.outbox.pending(10)
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def worker() -> None:
        barrier.wait()
        results.append(m.mailer.send(str(outbox_id))["status"])  # losers: "sending"

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert len(smtp.inbox.messages) == 1
    assert results.count("sent") == 1 and len(results) == 8
    assert set(results) <= {"sent", "sending"}
    assert m.outbox.state(outbox_id)["state"] == "sent"  # type: ignore[index]


def test_rq_retries_a_refused_send_and_delivers_once(
    engine: Engine, smtp: SmtpServer, rq: RqJobQueue
) -> None:
    m = on_rq(Mailing(notify_world(engine), Flaky(smtp_transport(smtp), 2)), rq)
    m.nw.confirm(m.nw.instant())
    assert m.dispatch() == 3
    assert m.dispatch() == 3  # still pending, but the same job ids: nothing queued twice
    work(rq)

    assert len(smtp.inbox.messages) == 3
    assert rq.failed() == []
    assert m.dispatch() == 0


def test_a_send_that_keeps_failing_is_in_the_failed_registry_until_an_admin_retries(
    engine: Engine, smtp: SmtpServer, rq: RqJobQueue
) -> None:
    flaky = Flaky(smtp_transport(smtp), 3)  # one attempt and two retries: all refused
    m = on_rq(Mailing(notify_world(engine), flaky), rq)
    m.nw.world.active_listing()
    m.dispatch()
    work(rq)

    (failed,) = rq.failed()
    (outbox_id,) = [r["id"] for r in m.nw.rows("outbox")]
    assert m.outbox.state(outbox_id)["state"] == "pending"  # type: ignore[index]
    assert m.dispatch() == 0  # released rows are the job's and the admin's, not new work
    assert str(outbox_id) in failed.id
    assert failed.kwargs == {"outbox_id": str(outbox_id)}
    assert smtp.inbox.messages == []

    assert rq.retry(failed.id)
    work(rq)
    assert len(smtp.inbox.messages) == 1 and rq.failed() == []


def test_a_rebuild_on_postgresql_sends_no_second_mail(
    engine: Engine, smtp: SmtpServer, rq: RqJobQueue
) -> None:
    m = on_rq(Mailing(notify_world(engine), smtp_transport(smtp)), rq)
    m.nw.confirm(m.nw.instant())
    m.dispatch()
    work(rq)
    m.nw.runner.rebuild("notifications")
    assert m.dispatch() == 0
    work(rq)
    assert len(smtp.inbox.messages) == 3
