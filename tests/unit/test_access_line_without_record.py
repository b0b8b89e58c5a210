"""`direct_line` (infrastructure/structured_logging.py), how the access line is written: when
our handler alone would write a record of the logger, it writes the very line that record
would give (same fields, order, redaction, JSON or console) with no `LogRecord`; when anything
else would see the record (another handler, as pytest's caplog adds; a filter; a level that
drops it), it writes nothing and says so, and the caller logs the record as before."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from application.work_scope import work_scope
from infrastructure.settings import Settings
from infrastructure.structured_logging import configure_logging, direct_line

_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_TEXTS = st.one_of(
    st.text(max_size=30), st.sampled_from(["POST", "/api/v1/bookings", "Bearer abc.def"])
)
_EXTRAS = st.fixed_dictionaries(
    {
        "method": _TEXTS,
        "route": _TEXTS,
        "status": st.integers(100, 599),
        "duration_ms": st.floats(0, 1e5, allow_nan=False),
    },
    optional={"job": _TEXTS, "other": _TEXTS, "password": _TEXTS},
)


@contextmanager
def _logging(log_format: str) -> Iterator[tuple[logging.Handler, io.StringIO]]:
    root = logging.getLogger()
    others = list(root.handlers)  # pytest's capturing handlers: here only ours may be
    stream = io.StringIO()
    handler = configure_logging(Settings(log_format=log_format, environment="test"), stream)
    for other in others:
        root.removeHandler(other)
    root.setLevel(logging.INFO)
    try:
        yield handler, stream
    finally:
        root.removeHandler(handler)
        for other in others:
            root.addHandler(other)
        structlog.reset_defaults()


def _by_record(log: logging.Logger, extra: dict[str, Any]) -> None:
    log.handle(
        log.makeRecord(log.name, logging.INFO, __file__, 0, "request", (), None, None, extra)
    )


@settings(max_examples=60, deadline=None)
@given(
    log_format=st.sampled_from(["json", "console"]),
    extra=_EXTRAS,
    scope=st.dictionaries(st.sampled_from(["request_id", "command", "actor_id"]), _TEXTS),
)
def test_the_line_without_a_record_is_the_records_line(
    log_format: str, extra: dict[str, Any], scope: dict[str, str]
) -> None:
    log = logging.getLogger("rentbook.access")
    with _logging(log_format) as (_handler, stream), work_scope(**scope):
        assert direct_line(log, logging.INFO, "request", extra)
        direct = stream.getvalue()
        _by_record(log, extra)
    recorded = stream.getvalue().removeprefix(direct)
    assert _STAMP.sub("T", direct) == _STAMP.sub("T", recorded)


def test_nothing_is_written_when_another_handler_or_a_filter_would_see_the_record() -> None:
    log = logging.getLogger("rentbook.access")
    extra = {"method": "POST", "route": "/x", "status": 201, "duration_ms": 1.5}
    with _logging("json") as (handler, stream):
        other = logging.StreamHandler(io.StringIO())
        logging.getLogger("rentbook").addHandler(other)
        try:
            assert not direct_line(log, logging.INFO, "request", extra)
        finally:
            logging.getLogger("rentbook").removeHandler(other)
        log.addFilter(lambda record: True)
        try:
            assert not direct_line(log, logging.INFO, "request", extra)
        finally:
            log.filters.clear()
        handler.setLevel(logging.WARNING)
        assert not direct_line(log, logging.INFO, "request", extra)
        handler.setLevel(logging.NOTSET)
        assert stream.getvalue() == ""
        assert direct_line(log, logging.INFO, "request", extra)
        assert '"status": 201' in stream.getvalue()


def test_a_closed_stream_leaves_the_line_to_the_record_path() -> None:
    log = logging.getLogger("rentbook.access")
    with _logging("json") as (_handler, stream):
        stream.close()
        assert not direct_line(log, logging.INFO, "request", {"status": 201})
