"""SSE in tests: the app served by a real uvicorn in a thread (a test client buffers whole
responses, and a stream never ends), and a small blocking SSE reader over httpx."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.e2e.served import free_port
from tests.polling import eventually


@dataclass
class Sse:
    kind: str  # the `event:` name, or "comment" for a `:` line
    id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""


_ACCESS = logging.getLogger("rentbook.access")  # interfaces/http/boundary.py


class _HeldAccessLines(logging.Filter):
    """The server thread's access lines, held while pytest's capture is suspended.

    A stream's access line is logged when the server notices the client left, which is often
    just after the test's call phase, between phases, when `sys.stderr` is the terminal again.
    Held there, a line is logged with the next one that comes while the capture is on, or when
    the server stops (inside the fixture's teardown): in the test's captured output, never on
    the terminal. Without capture (`-s`) every line passes at once."""

    def __init__(self, server_thread: threading.Thread) -> None:
        super().__init__()
        self._thread = server_thread
        self._captured = sys.stderr  # a fixture or a test enters served_app: capture is on
        self._held: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if threading.current_thread() is not self._thread:
            return True
        if sys.stderr is not self._captured:
            self._held.append(record)
            return False
        self.release()
        return True

    def release(self) -> None:
        held, self._held = self._held, []
        for record in held:
            _ACCESS.callHandlers(record)  # as `Logger.handle` would have, past this filter


@contextmanager
def served_app(app: FastAPI) -> Iterator[str]:
    """The app on a free port (lifespan on); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    held = _HeldAccessLines(thread)
    _ACCESS.addFilter(held)
    thread.start()
    try:
        eventually(
            lambda: server.started or not thread.is_alive(), "uvicorn started", interval=0.05
        )
        assert server.started, "uvicorn stopped before it started"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        _ACCESS.removeFilter(held)
        held.release()


class SseStream:
    """One open stream; `read` returns events (and comments) as they arrive."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout: float = 15):
        self._client = httpx.Client(timeout=httpx.Timeout(timeout))
        self._context = self._client.stream("GET", url, headers=headers or {})
        self.response = self._context.__enter__()
        self._lines = self.response.iter_lines()

    def __enter__(self) -> SseStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._context.__exit__(None, None, None)
        self._client.close()

    def next(self) -> Sse:
        fields: dict[str, str] = {}
        for line in self._lines:
            if line.startswith(":"):
                return Sse("comment", text=line[1:].strip())
            if not line:
                if "data" in fields or "event" in fields:
                    return Sse(
                        fields.get("event", "message"),
                        int(fields["id"]) if "id" in fields else None,
                        json.loads(fields.get("data", "{}")),
                    )
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        raise EOFError("the server ended the stream")

    def events(self, count: int) -> list[Sse]:
        """The next `count` events, skipping heartbeats."""
        found: list[Sse] = []
        while len(found) < count:
            event = self.next()
            if event.kind != "comment":
                found.append(event)
        return found

    def until(self, done: Callable[[Sse], bool]) -> list[Sse]:
        """Events (no heartbeats) up to and including the first that is `done`."""
        found: list[Sse] = []
        while True:
            event = self.next()
            if event.kind == "comment":
                continue
            found.append(event)
            if done(event):
                return found
