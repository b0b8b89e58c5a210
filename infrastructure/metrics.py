"""Prometheus metrics beyond the HTTP ones (`interfaces/http/health.py` counts and times
requests by route template): commands and conflicts per command, projection lag per view,
job queue depth and failures, payment failures by reason, SSE connections.

Gauges that describe a container's state (lag, queue depth) are refreshed when /metrics is
scraped, so nothing polls in the background."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client import Counter, Gauge

COMMANDS = Counter(
    "rentbook_commands_total",
    "Commands handled, by command (HTTP operation or job) and outcome",
    ["command", "outcome"],
)
CONFLICTS = Counter(
    "rentbook_command_conflicts_total",
    "Optimistic-concurrency conflicts when saving, by command",
    ["command"],
)
PROJECTION_LAG_EVENTS = Gauge(
    "rentbook_projection_lag_events", "Events recorded but not yet in the view", ["view"]
)
PROJECTION_LAG_SECONDS = Gauge(
    "rentbook_projection_lag_seconds",
    "Age of the oldest event the view has not processed yet",
    ["view"],
)
JOB_QUEUE_DEPTH = Gauge("rentbook_job_queue_depth", "Jobs queued or waiting to retry")
JOB_FAILURES = Counter(
    "rentbook_job_failures_total", "Job attempts that raised, by job name", ["job"]
)
PAYMENT_FAILURES = Counter(
    "rentbook_payment_failures_total",
    "Payment failures recorded (charges, refunds), by event and reason",
    ["event", "reason"],
)
# Per API worker process: each stream increments it while open (interfaces/sse/stream.py).
SSE_CONNECTIONS = Gauge("rentbook_sse_connections", "Open server-sent-event streams")
SSE_DROPPED = Counter(
    "rentbook_sse_dropped_total", "SSE streams closed because the client read too slowly"
)

_REASON_WORD = re.compile(r"[^a-z0-9]+")


def outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (409, 412):
        return "conflict"
    return "rejected" if status < 500 else "error"


def reason_label(reason: str) -> str:
    """A short, bounded label from a free-text reason (`card_declined`,
    `your_card_was_declined`)."""
    label = _REASON_WORD.sub("_", reason.lower()).strip("_")
    return label[:40] or "unknown"


def refresh_projection_lag(status: list[dict[str, Any]]) -> None:
    for view in status:
        PROJECTION_LAG_EVENTS.labels(view["name"]).set(view["lag_events"])
        PROJECTION_LAG_SECONDS.labels(view["name"]).set(view["lag_seconds"])


def refresh_job_depth(queue: Any) -> None:
    depth = getattr(queue, "depth", None)
    if callable(depth):
        JOB_QUEUE_DEPTH.set(depth())
