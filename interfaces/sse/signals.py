"""Ends open SSE streams as soon as the server is told to stop.

uvicorn's graceful shutdown waits for every open response, and a stream never finishes on
its own; the lifespan's end comes only after that wait. So, in the serving (main) thread,
the handlers uvicorn installed for SIGINT and SIGTERM are wrapped: ours ends the streams,
then calls uvicorn's. Elsewhere (a test client's thread) nothing is installed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def end_streams_on_signals(end_streams: Callable[[], None]) -> Callable[[], None]:
    """Installs the wrappers; returns what puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}
    for sig in SIGNALS:
        before = signal.getsignal(sig)
        if not callable(before):
            continue

        def handler(
            signum: int, frame: FrameType | None, before: Callable[..., Any] = before
        ) -> None:
            end_streams()
            before(signum, frame)

        previous[sig] = (before, handler)
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, (before, handler) in previous.items():
            if signal.getsignal(sig) is handler:  # nobody replaced ours since
                signal.signal(sig, before)

    return restore
