"""A span per projection page, carrying the correlation ids of the requests whose events it
applied, so a request's trace can be joined to the page that made it visible."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace

from projections.stored import meta_of

_tracer = trace.get_tracer("rentbook.projections")
CORRELATION_ID = "rentbook.correlation_id"
_MAX_IDS = 50  # attributes stay small on a rebuild's large pages


@contextmanager
def page_span(view: str, events: Sequence[Any], start: int, stop: int) -> Iterator[None]:
    with _tracer.start_as_current_span(f"projection {view}") as span:
        if span.is_recording():
            ids: list[str] = []
            for event in events:
                cid = meta_of(event).get("correlation_id")
                if cid and cid not in ids:
                    ids.append(cid)
            span.set_attribute("rentbook.view", view)
            span.set_attribute("rentbook.events", len(events))
            span.set_attribute("rentbook.from_position", start)
            span.set_attribute("rentbook.to_position", stop)
            if ids:
                span.set_attribute(
                    CORRELATION_ID, ids[0] if len(ids) == 1 else ",".join(ids[:_MAX_IDS])
                )
                span.set_attribute("rentbook.correlation_ids", ids[:_MAX_IDS])
        yield
