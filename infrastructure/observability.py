"""One call for a process's logs and traces, from Settings."""

from __future__ import annotations

from infrastructure.settings import Settings
from infrastructure.structured_logging import configure_logging
from infrastructure.tracing import configure_tracing


def configure_observability(settings: Settings) -> None:
    configure_logging(settings)
    configure_tracing(settings)
