"""Log lines written on an event loop leave together, once per loop turn (issue #9).

A line's `write` and `flush` are a system call that releases the GIL; under load a command
thread is waiting for it, so the event loop then waits to take it back, once per request
(the access line). Batched, the lines of one loop turn cost one call: a line is appended to
its thread's pending text, and the first line of a turn schedules the write (`call_soon`),
which runs before the loop next waits for I/O. Same bytes, same order among the batched
lines; a line written directly meanwhile (another thread, a traceback) may come before
lines of the same turn written earlier. A process killed before the turn's end loses that
turn's lines, which is why it is opt-in: `enable()` from a serving process
(`create_app(settle_heap=True)`), never in tests that read a stream right after a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

_enabled = False


class _Pending(threading.local):
    loop: asyncio.AbstractEventLoop | None = None
    handler: logging.StreamHandler[Any] | None = None
    lines: list[str] | None = None


_pending = _Pending()


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def add(handler: logging.StreamHandler[Any], text: str) -> bool:
    """Queues `text` (terminated) for `handler` when batching is on and this thread runs an
    event loop; False otherwise (the caller writes it now)."""
    if not _enabled:
        return False
    loop = asyncio._get_running_loop()  # the C accessor: no exception off the loop
    if loop is None:
        return False
    lines = _pending.lines
    if lines is not None and _pending.handler is handler and _pending.loop is loop:
        lines.append(text)
        return True
    if lines is not None:  # another handler (logging reconfigured) or loop: theirs first
        flush()
    _pending.loop, _pending.handler, _pending.lines = loop, handler, [text]
    loop.call_soon(flush)
    return True


def flush() -> None:
    """Writes this thread's pending lines, as `StreamHandler.emit` would."""
    handler, lines = _pending.handler, _pending.lines
    _pending.loop, _pending.handler, _pending.lines = None, None, None
    if handler is None or not lines:
        return
    try:
        with handler.lock or contextlib.nullcontext():
            handler.stream.write("".join(lines))
            handler.flush()
    except Exception:  # a closed or broken stream: reported as the record path would
        handler.handleError(logging.makeLogRecord({"msg": lines[0].rstrip("\n")}))
