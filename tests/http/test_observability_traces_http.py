"""Traces with the SDK's in-memory exporter: one booking request's spans (HTTP → command →
store) share a trace and carry its correlation id; the projection pages that applied its
events say so; a payment's job runs in the paying request's trace; a W3C `traceparent` from
the caller is continued."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infrastructure.tracing import CORRELATION_ID
from tests.http.conftest import Api
from tests.http.test_bookings_http import Market, open_listing
from tests.observability import recorded_spans
from tests.polling import eventually


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as spans:
        yield spans


def _named(spans: Sequence[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name.startswith(prefix)]


def _market(api: Api) -> Market:
    owner, admin, renter = api.new_user(), api.admin(), api.new_user()
    return Market(api, owner, admin, renter, open_listing(api, owner, admin))


def test_a_booking_requests_spans_share_a_trace_and_its_correlation_id(
    api: Api, exporter: InMemorySpanExporter
) -> None:
    market = _market(api)
    exporter.clear()
    r = market.book(headers={"X-Request-Id": "req-trace-1"})
    assert r.status_code == 201, r.text
    position = int(r.headers["X-Rentbook-Position"])
    assert api.container.runner.wait_for(position, None, 10.0)
    spans = exporter.get_finished_spans()
    (http,) = [s for s in spans if s.name == "POST /api/v1/bookings"]
    (command,) = _named(spans, "command place_booking")
    stores = [
        s for s in _named(spans, "store.record") if s.context.trace_id == http.context.trace_id
    ]
    assert stores, [s.name for s in spans]
    for span in (http, command, *stores):
        assert span.context.trace_id == http.context.trace_id
        assert span.attributes is not None
        assert span.attributes[CORRELATION_ID] == "req-trace-1"
    assert command.parent is not None and command.parent.span_id == http.context.span_id
    assert all(s.parent is not None for s in stores)
    assert http.attributes is not None and http.attributes["http.response.status_code"] == 201

    def page_spans() -> list[ReadableSpan]:
        return [
            s
            for s in _named(exporter.get_finished_spans(), "projection ")
            if "req-trace-1" in (s.attributes or {}).get("rentbook.correlation_ids", ())
        ]

    eventually(page_spans, "the projection's spans")
    assert {s.name for s in page_spans()} >= {"projection bookings"}


def test_a_payment_job_runs_in_the_paying_requests_trace(
    api: Api, exporter: InMemorySpanExporter
) -> None:
    market = _market(api)
    booking = market.placed()
    exporter.clear()
    r = api.client.post(
        f"/api/v1/bookings/{booking['id']}/payment",
        headers={**market.renter.headers, "X-Request-Id": "req-pay-1"},
    )
    assert r.status_code == 200, r.text
    spans = exporter.get_finished_spans()
    (http,) = [s for s in spans if s.name.startswith("POST /api/v1/bookings/{booking_id}/payment")]
    jobs = [s for s in _named(spans, "job ") if s.context.trace_id == http.context.trace_id]
    assert jobs, [s.name for s in spans]
    assert all((s.attributes or {}).get(CORRELATION_ID) == "req-pay-1" for s in jobs)


def test_a_callers_traceparent_is_continued(api: Api, exporter: InMemorySpanExporter) -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    api.client.get("/health", headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"})
    (http,) = [s for s in exporter.get_finished_spans() if s.name == "GET /health"]
    assert format(http.context.trace_id, "032x") == trace_id
