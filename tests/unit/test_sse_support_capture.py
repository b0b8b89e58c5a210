"""The served test app's access lines stay inside pytest's capture (tests/sse_support.py):
held while `sys.stderr` is not the captured stream, logged once it is again or at release."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.sse_support import _ACCESS, _HeldAccessLines


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler, level = Lines(), _ACCESS.level
    _ACCESS.addHandler(handler)
    _ACCESS.setLevel(logging.INFO)
    yield handler
    _ACCESS.removeHandler(handler)
    _ACCESS.setLevel(level)


@pytest.fixture
def server() -> Iterator[ThreadPoolExecutor]:
    """One thread standing for the served app's."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool


def held_for(server: ThreadPoolExecutor) -> _HeldAccessLines:
    return _HeldAccessLines(server.submit(threading.current_thread).result())


def test_lines_logged_while_capture_is_suspended_wait_for_it(
    lines: Lines, server: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = held_for(server)
    _ACCESS.addFilter(held)
    try:
        monkeypatch.setattr(sys, "stderr", io.StringIO())  # pytest between phases
        server.submit(_ACCESS.info, "left between phases").result()
        _ACCESS.info("from the test itself")  # the test's own thread is never held
        assert lines.messages == ["from the test itself"]
        monkeypatch.undo()  # capture on again
        server.submit(_ACCESS.info, "next").result()
        assert lines.messages == ["from the test itself", "left between phases", "next"]
    finally:
        _ACCESS.removeFilter(held)


def test_what_is_still_held_when_the_server_stops_is_logged_then(
    lines: Lines, server: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = held_for(server)
    _ACCESS.addFilter(held)
    try:
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        server.submit(_ACCESS.info, "last stream closed").result()
        monkeypatch.undo()
        assert lines.messages == []
    finally:
        _ACCESS.removeFilter(held)
    held.release()
    assert lines.messages == ["last stream closed"]
