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
from opentelemetry.sdk.trace import ReadableSpan
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


class _Switchable(SimpleSpanProcessor):
    """Exports only while a test records, so later tests do not pile spans up in memory
    (a provider's processors cannot be removed)."""

    active = False

    def on_end(self, span: ReadableSpan) -> None:
        if self.active:
            super().on_end(span)


_exporter = InMemorySpanExporter()
_processor: _Switchable | None = None


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """The spans finished inside the block, in memory."""
    global _processor
    if _processor is None:
        _processor = _Switchable(_exporter)
        install_provider(_processor)
    _exporter.clear()
    _processor.active = True
    try:
        yield _exporter
    finally:
        _processor.active = False
        _exporter.clear()
