"""Test helpers for logs and traces: a JSON log capture and one in-memory span exporter
(OpenTelemetry allows a single tracer provider per process)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infrastructure.settings import Settings
from infrastructure.structured_logging import configure_logging
from infrastructure.tracing import install_provider


class LogCapture:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@contextmanager
def captured_logs(settings: Settings | None = None) -> Iterator[LogCapture]:
    settings = settings or Settings(log_format="json", environment="test")
    capture = LogCapture()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(settings, capture.stream)
    try:
        yield capture
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        structlog.reset_defaults()


_exporter: InMemorySpanExporter | None = None


def span_exporter() -> InMemorySpanExporter:
    """The process's in-memory exporter, emptied."""
    global _exporter
    if _exporter is None:
        _exporter = InMemorySpanExporter()
        install_provider(SimpleSpanProcessor(_exporter))
    _exporter.clear()
    return _exporter
