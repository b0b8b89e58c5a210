"""`tracing_on` asks OpenTelemetry once (its answer reads `os.environ` while no provider is
set) and turns on when `install_provider` sets the provider."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infrastructure import tracing


def test_the_answer_is_kept_after_the_first_span(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_on", None)
    first = tracing.tracing_on()
    asked: list[bool] = []
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: asked.append(True))
    assert tracing.tracing_on() is first and tracing.tracing_on() is first
    assert asked == []


def test_installing_a_provider_turns_tracing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_installed", None)
    monkeypatch.setattr(tracing, "_on", False)
    monkeypatch.setattr(trace, "set_tracer_provider", lambda _provider: None)  # one per process
    tracing.install_provider(SimpleSpanProcessor(InMemorySpanExporter()))
    assert tracing.tracing_on()
