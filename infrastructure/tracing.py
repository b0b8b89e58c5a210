"""OpenTelemetry traces: HTTP → command → store → projection → job.

Spans go to an OTLP/HTTP collector only when one is configured (`RENTBOOK_OTLP_ENDPOINT` or
the standard `OTEL_EXPORTER_OTLP_ENDPOINT`); otherwise the API's no-op tracer is left in
place, so an unconfigured process pays a context-manager call per span and nothing more.
Every span of a unit of work carries its correlation id (`rentbook.correlation_id`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from application.context import active_context
from application.work_scope import current_scope
from infrastructure.settings import Settings

CORRELATION_ID = "rentbook.correlation_id"
_tracer = trace.get_tracer("rentbook")
_installed: TracerProvider | None = None
# Whether spans are recorded, decided on the first span and again when `install_provider`
# sets one: asking OpenTelemetry reads `os.environ` on every call while no provider is set
# (issue #9: 3.5% of the server's samples on POST /bookings).
_on: bool | None = None


def otlp_endpoint(settings: Settings) -> str | None:
    return settings.otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None


def install_provider(processor: SpanProcessor) -> TracerProvider:
    """Sets the process's tracer provider once (OpenTelemetry allows one); later calls add
    their processor to it."""
    global _installed, _on
    if _installed is None:
        _installed = TracerProvider(resource=Resource.create({"service.name": "rentbook"}))
        trace.set_tracer_provider(_installed)
        _on = True
    _installed.add_span_processor(processor)
    return _installed


def configure_tracing(settings: Settings) -> SpanProcessor | None:
    """Exports spans over OTLP/HTTP when an endpoint is configured; the exporting
    processor (None when there is no endpoint)."""
    endpoint = otlp_endpoint(settings)
    if not endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    url = endpoint if endpoint.endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"
    processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=url))
    install_provider(processor)
    return processor


def correlation_id() -> str:
    ctx, scope = active_context(), current_scope()
    if ctx is not None and ctx.correlation_id:
        return ctx.correlation_id
    return scope.correlation_id if scope is not None else ""


def tracing_on() -> bool:
    """Whether a tracer provider is set: until one is, every tracer is a no-op proxy. One
    set other than by `install_provider` (`OTEL_PYTHON_TRACER_PROVIDER`, an instrumenting
    launcher) is seen when it was set before the first span, as such launchers do."""
    global _on
    if _on is None:
        _on = _installed is not None or not isinstance(
            trace.get_tracer_provider(), trace.ProxyTracerProvider
        )
    return _on


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A child of the current span, stamped with the current correlation id. Without a
    provider, the current span itself: what the no-op tracer would start is a non-recording
    span with the same context, and skipping it spares a context attach per span."""
    if not tracing_on():
        yield trace.get_current_span()
        return
    with _tracer.start_as_current_span(name) as current:
        if current.is_recording():
            cid = correlation_id()
            if cid:
                current.set_attribute(CORRELATION_ID, cid)
            for key, value in attributes.items():
                if value is not None:
                    current.set_attribute(key, value)
        yield current
