"""Prometheus metrics after real activity, read by scraping /metrics: commands per
operation and outcome, conflicts per command, projection lag per view, job queue depth and
failures, payment failures by reason, and the SSE gauge (0 with no stream open; counting
streams up and down: test_sse_gauge_http)."""

from __future__ import annotations

from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError
from prometheus_client.parser import text_string_to_metric_families

from application.jobs import JobInfo
from application.work_scope import work_scope
from infrastructure.jobs_rq import RqJobQueue
from tests.http.conftest import API, Api
from tests.http.test_bookings_http import Market, open_listing
from tests.polling import eventually

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(api: Api) -> Samples:
    r = api.client.get("/metrics")
    assert r.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_commands_by_outcome_and_the_latency_histogram_by_route(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    market = Market(api, owner, admin, renter, open_listing(api, owner, admin))
    before = scrape(api)
    market.placed()
    assert market.book(listing_id=str(UUID(int=7))).status_code == 404
    after = scrape(api)
    for outcome in ("ok", "rejected"):
        labels = {"command": "place_booking", "outcome": outcome}
        assert value(after, "rentbook_commands_total", **labels) == (
            value(before, "rentbook_commands_total", **labels) + 1
        )
    bucket = {"method": "POST", "route": f"{API}/bookings", "le": "+Inf"}
    assert value(after, "rentbook_http_request_duration_seconds_bucket", **bucket) == (
        value(before, "rentbook_http_request_duration_seconds_bucket", **bucket) + 2
    )


def test_conflicts_are_counted_per_command(api: Api) -> None:
    user = api.new_user()
    store = api.container.store
    first, second = (store.repository.get(UUID(user.id)) for _ in range(2))
    at = api.clock.now()
    labels = {"command": "suspend_twice"}
    before = value(scrape(api), "rentbook_command_conflicts_total", **labels)
    with work_scope(command="suspend_twice"):
        first.suspend(UUID(int=1), "one", at)
        store.record(first)
        second.suspend(UUID(int=1), "two", at)
        with pytest.raises(IntegrityError):
            store.record(second)
    assert value(scrape(api), "rentbook_command_conflicts_total", **labels) == before + 1


def test_projection_lag_per_view_in_events_and_seconds(api: Api) -> None:
    api.new_user()
    samples = scrape(api)
    views = {s["name"] for s in api.container.runner.status()}
    assert views and "bookings" in views
    for view in views:
        assert ("rentbook_projection_lag_events", (("view", view),)) in samples
        assert ("rentbook_projection_lag_seconds", (("view", view),)) in samples
    api.container.runner.stop()  # nothing follows the log now: lag shows
    api.new_user()
    lagging = scrape(api)
    assert any(value(lagging, "rentbook_projection_lag_events", view=view) > 0 for view in views)


def test_job_failures_depth_and_the_sse_gauge(api: Api) -> None:
    wiring = api.container.payments_wiring
    assert wiring is not None
    jobs = wiring.jobs

    class Refused(Exception):
        retryable = False

    def refuse() -> None:
        raise Refused("no")

    jobs.register("observability_refuse", refuse)
    before = value(scrape(api), "rentbook_job_failures_total", job="observability_refuse")
    jobs.enqueue("observability_refuse", {}, job_id="observability-refuse-1")

    def failed() -> bool:
        info: JobInfo | None = jobs.get("observability-refuse-1")
        return info is not None and info.status == "failed"

    eventually(failed, "the job failed")
    after = scrape(api)
    assert value(after, "rentbook_job_failures_total", job="observability_refuse") == before + 1
    assert ("rentbook_job_queue_depth", ()) in after
    assert value(after, "rentbook_sse_connections") == 0


def test_payment_failures_are_counted_by_reason(api: Api) -> None:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    market = Market(api, owner, admin, renter, open_listing(api, owner, admin))
    booking = market.placed()
    payment_id = market.pay(booking["id"])
    labels = {"event": "ChargeFailed", "reason": "insufficient_funds"}
    before = value(scrape(api), "rentbook_payment_failures_total", **labels)
    r = market.post(f"/dev/payments/{payment_id}/fail", renter, {"reason": "insufficient_funds"})
    assert r.status_code == 200, r.text
    eventually(
        lambda: value(scrape(api), "rentbook_payment_failures_total", **labels) == before + 1,
        "the failure counted",
    )


@pytest.mark.postgres
@pytest.mark.redis
def test_on_postgres_the_rq_queue_depth_and_view_lag_are_scraped(pg_api: Api) -> None:
    pg_api.new_user()
    samples = scrape(pg_api)
    wiring = pg_api.container.payments_wiring
    assert wiring is not None and isinstance(wiring.jobs, RqJobQueue)
    assert value(samples, "rentbook_job_queue_depth") == wiring.jobs.depth()
    views = {s["name"] for s in pg_api.container.runner.status()}
    assert all(("rentbook_projection_lag_events", (("view", v),)) in samples for v in views)
    labels = {"command": "register", "outcome": "ok"}
    assert value(samples, "rentbook_commands_total", **labels) >= 1
