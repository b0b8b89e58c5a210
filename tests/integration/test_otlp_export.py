"""Traces leave the process over OTLP/HTTP only when an endpoint is configured: a local
collector receives the spans of a unit of work; without an endpoint nothing is set up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from application.work_scope import work_scope
from infrastructure.settings import Settings
from infrastructure.tracing import configure_tracing, otlp_endpoint, span


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Collector.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Collector.received.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_no_endpoint_no_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert otlp_endpoint(Settings()) is None
    assert configure_tracing(Settings()) is None


def test_the_standard_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert otlp_endpoint(Settings()) == "http://collector:4318"
    assert otlp_endpoint(Settings(otlp_endpoint="http://mine:4318")) == "http://mine:4318"


def test_spans_reach_a_configured_collector(collector: str) -> None:
    processor = configure_tracing(Settings(otlp_endpoint=collector))
    assert processor is not None
    try:
        with work_scope(correlation_id="corr-otlp-1"), span("command otlp_test"):
            pass
        assert processor.force_flush(5000)
    finally:
        processor.shutdown()
    paths = [path for path, _ in _Collector.received]
    assert "/v1/traces" in paths
    payload = b"".join(body for _, body in _Collector.received)
    assert b"command otlp_test" in payload and b"corr-otlp-1" in payload
