"""Log lines batched per event-loop turn (infrastructure/line_batch.py): with batching on,
the lines a loop turn writes through `direct_line` reach the stream together when the turn
ends, the same bytes in the same order as unbatched; off the loop, or with batching off,
they are written at once."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import structlog

from infrastructure import line_batch
from infrastructure.settings import Settings
from infrastructure.structured_logging import configure_logging, direct_line

_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_LOG = logging.getLogger("rentbook.access")


@contextmanager
def _logging(batched: bool) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    others = list(root.handlers)  # pytest's capturing handlers: here only ours may be
    stream = io.StringIO()
    handler = configure_logging(Settings(log_format="json", environment="test"), stream)
    for other in others:
        root.removeHandler(other)
    root.setLevel(logging.INFO)
    line_batch.enable(batched)
    try:
        yield stream
    finally:
        line_batch.enable(False)
        root.removeHandler(handler)
        for other in others:
            root.addHandler(other)
        structlog.reset_defaults()


def _line(status: int) -> None:
    extra = {"method": "GET", "route": "/api/v1/users/me", "status": status, "duration_ms": 1.5}
    assert direct_line(_LOG, logging.INFO, "request", extra)


async def _one_turn(stream: io.StringIO) -> tuple[str, str]:
    """What the stream holds after two lines in one turn, then after the turn."""
    _line(200)
    _line(404)
    during = stream.getvalue()
    await asyncio.sleep(0)
    return during, stream.getvalue()


def test_a_turns_lines_reach_the_stream_together_when_it_ends() -> None:
    with _logging(batched=True) as stream:
        during, after = asyncio.run(_one_turn(stream))
    assert during == ""
    assert [line["status"] for line in map(_json, after.splitlines())] == [200, 404]


def test_batched_lines_are_the_unbatched_bytes() -> None:
    with _logging(batched=False) as stream:
        during, plain = asyncio.run(_one_turn(stream))
    assert during == plain  # unbatched: written at once
    with _logging(batched=True) as stream:
        _, batched = asyncio.run(_one_turn(stream))
    assert _STAMP.sub("T", batched) == _STAMP.sub("T", plain)


def test_off_the_event_loop_a_line_is_written_at_once() -> None:
    with _logging(batched=True) as stream:
        _line(200)
        assert _json(stream.getvalue())["status"] == 200


def test_a_broken_stream_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    async def broken(stream: io.StringIO) -> None:
        _line(200)
        stream.close()
        await asyncio.sleep(0)

    with _logging(batched=True) as stream:
        asyncio.run(broken(stream))
    assert "Logging error" in capsys.readouterr().err


def _json(text: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(text)
    return loaded
