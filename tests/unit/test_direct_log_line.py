"""The direct path of the log formatter (`_LineFormatter`, infrastructure/structured_logging.py)
renders a stdlib record without a traceback, the access line among them, exactly as the
generic structlog chain does: same fields, order, redaction and rendering, JSON or console."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from uuid import uuid4

import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from application.context import Actor, command_context
from application.work_scope import work_scope
from infrastructure.settings import Settings
from infrastructure.structured_logging import _LineFormatter, configure_logging

_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "request",
            "Bearer abc.def",
            "sk_live_123",
            "pi_1_secret_ab12",
            "t=1,v1=abcd",
            "card 4242 4242 4242 4242",
            "/api/v1/bookings/{booking_id}",
            "%s and %s",
        ]
    ),
)
_VALUES = st.one_of(
    _TEXTS,
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.dictionaries(st.sampled_from(["password", "note", "card_number"]), _TEXTS, max_size=2),
)
_EXTRAS = st.dictionaries(
    st.sampled_from(["method", "route", "status", "duration_ms", "job", "view", "other"]),
    _VALUES,
    max_size=6,
)


@contextmanager
def _formatter(log_format: str) -> Iterator[tuple[logging.Handler, _LineFormatter]]:
    handler = configure_logging(Settings(log_format=log_format, environment="test"), io.StringIO())
    try:
        formatter = handler.formatter
        assert isinstance(formatter, _LineFormatter)
        yield handler, formatter
    finally:
        logging.getLogger().removeHandler(handler)
        structlog.reset_defaults()


def _record(
    handler: logging.Handler, name: str, level: int, message: str, args: Any, extra: Any
) -> logging.LogRecord:
    record = logging.getLogger(name).makeRecord(
        name, level, __file__, 1, message, args, None, extra=extra
    )
    handler.filter(record)  # the redaction of %-arguments, as `handle` runs it
    return record


@settings(max_examples=300, deadline=None)
@given(
    log_format=st.sampled_from(["json", "console"]),
    name=st.sampled_from(["rentbook.access", "rentbook.jobs", "uvicorn.error", "x_secret_y"]),
    level=st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]),
    message=_TEXTS,
    args=st.one_of(st.just(()), st.tuples(_VALUES, _VALUES)),
    extra=_EXTRAS,
    scope=st.dictionaries(
        st.sampled_from(["request_id", "correlation_id", "command", "actor_id"]), _TEXTS
    ),
    in_command=st.booleans(),
    bound=st.dictionaries(st.sampled_from(["tenant", "token"]), _TEXTS, max_size=2),
)
def test_the_direct_path_renders_what_the_generic_chain_renders(
    log_format: str,
    name: str,
    level: int,
    message: str,
    args: tuple[Any, ...],
    extra: dict[str, Any],
    scope: dict[str, str],
    in_command: bool,
    bound: dict[str, str],
) -> None:
    if args and message.count("%") != 2:
        message = "%s and %s"  # args need placeholders, as every caller's do
    with _formatter(log_format) as (handler, formatter), ExitStack() as stack:
        stack.enter_context(work_scope(**scope))
        if in_command:
            stack.enter_context(
                command_context(Actor(uuid4(), "renter"), request_id="rq", correlation_id="co")
            )
        structlog.contextvars.bind_contextvars(**bound)
        try:
            direct = formatter.format(_record(handler, name, level, message, args, extra))
            generic = structlog.stdlib.ProcessorFormatter.format(
                formatter, _record(handler, name, level, message, args, extra)
            )
        finally:
            structlog.contextvars.clear_contextvars()
    assert _STAMP.sub("T", direct) == _STAMP.sub("T", generic)
    assert _STAMP.search(direct) is not None


def test_a_record_with_a_traceback_takes_the_generic_chain() -> None:
    with _formatter("json") as (_handler, formatter):
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.getLogger("x").makeRecord(
                "x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
            )
        line = formatter.format(record)
    assert '"exception": "Traceback' in line and "ValueError: boom" in line
