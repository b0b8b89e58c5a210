"""Structured logs: structlog for our lines, stdlib `logging` routed through the same
processors, so every line (ours and libraries') is one JSON object, or readable console
output in development. Each line carries the request id, correlation id, actor and command
of the work it belongs to, and secrets and card data are redacted before rendering."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import IO, Any

import structlog
from structlog.types import EventDict, Processor

from application.context import SYSTEM_ACTOR, active_context
from application.work_scope import current_scope
from infrastructure.settings import Settings

REDACTED = "[redacted]"
# Keys whose values never reach a log, wherever they nest (password, new_password,
# client_secret, stripe-signature, authorization, card_number, cvc, ...).
_SECRET_KEY = re.compile(
    r"pass(word|wd)?|token|secret|authori[sz]ation|cookie|card|cvc|cvv|signature|api_?key",
    re.IGNORECASE,
)
# Secrets that can hide inside a formatted message.
_SECRET_TEXT = (
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\b(?:sk|rk|whsec)_[A-Za-z0-9_]+"),
    re.compile(r"\b\w+_secret_[A-Za-z0-9]+"),
    re.compile(r"\bt=\d+,v1=[0-9a-fA-F]+"),  # a Stripe-Signature header value
)
_DIGITS = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def _scoped(pattern: re.Pattern[str]) -> str:
    inline = "(?i)"
    if pattern.pattern.startswith(inline):
        return f"(?i:{pattern.pattern.removeprefix(inline)})"
    return f"(?:{pattern.pattern})"


# Any of the above, in one scan: most texts (every access line's) hold none of them.
_MAY_HOLD_SECRET = re.compile("|".join(_scoped(p) for p in (*_SECRET_TEXT, _DIGITS)))
_CONTEXT_KEYS = ("request_id", "correlation_id", "actor_id", "actor_role", "command")
_HANDLER_MARK = "_rentbook_handler"
# `extra=` fields our stdlib lines may carry (the access line); others are left out, since a
# formatter earlier in the chain may have stored the unredacted message on the record.
_EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "job", "view")


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return REDACTED if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


# What every match of the patterns above contains: an underscore (`sk_`, `whsec_`,
# `_secret_`), `,v1=`, "bearer" in any case, or a digit and 12 more digits, spaces or
# hyphens. Testing for these first is a few string scans; the combined pattern costs
# microseconds per text (issue #9: six texts on every access line).
_LONG_NUMBER = re.compile(r"\d[\d -]{12}")


def _may_hold_secret(text: str) -> bool:
    return (
        "_" in text
        or ",v1=" in text
        or "bearer" in text.lower()
        or (len(text) >= 13 and _LONG_NUMBER.search(text) is not None)
    )


def scrub_text(text: str) -> str:
    if not _may_hold_secret(text) or not _MAY_HOLD_SECRET.search(text):
        return text
    for pattern in _SECRET_TEXT:
        text = pattern.sub(REDACTED, text)
    return _DIGITS.sub(_mask_card, text)


@functools.lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    """Whether a key names a secret; the same few keys come back on every line."""
    return _SECRET_KEY.search(key) is not None


_PLAIN = frozenset({int, float, bool, type(None)})  # nothing to scrub, and no ABC check


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return {k: REDACTED if _secret_key(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Drops secret-named keys and masks secrets and card numbers inside texts."""
    for key, value in list(event_dict.items()):
        if key in _CONTEXT_KEYS:
            continue
        event_dict[key] = REDACTED if _secret_key(key) else _scrub(value)
    return event_dict


class RedactArguments(logging.Filter):
    """Scrubs a stdlib record's %-arguments before they are formatted into the message, so
    `log.info("got %s", {"password": ...})` never renders the password."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = _scrub(record.args)
        elif isinstance(record.args, tuple):
            record.args = tuple(_scrub(a) for a in record.args)
        return True


def add_work_context(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """The ids of the request or job, and the actor; a command's own context wins."""
    scope, ctx = current_scope(), active_context()
    fields: MutableMapping[str, str] = {}
    if scope is not None:
        fields.update({k: getattr(scope, k) for k in _CONTEXT_KEYS if getattr(scope, k)})
    if ctx is not None:
        fields.update(request_id=ctx.request_id, correlation_id=ctx.correlation_id)
        if ctx.actor_id != str(SYSTEM_ACTOR) or "actor_id" not in fields:
            fields.update(actor_id=ctx.actor_id, actor_role=ctx.actor_role)
    for key, value in fields.items():
        if value:
            event_dict.setdefault(key, value)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=_EXTRA_FIELDS),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_work_context,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]


_stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)


class _LineFormatter(structlog.stdlib.ProcessorFormatter):
    """The generic chain for every stdlib record, and a direct path for the common one
    without a traceback (the access line, once per request): the same fields in the same
    order, redacted and rendered by the same functions, without the record copy and the
    dozen processor calls that do nothing for it (~40 µs per request, issue #9)."""

    def __init__(self, renderer: Processor) -> None:
        super().__init__(
            foreign_pre_chain=_shared_processors(),
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
        self._render = renderer

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.stack_info or hasattr(record, "_logger"):
            return super().format(record)  # a traceback, or a line structlog made
        return self.render(record.name, record.levelname, record.getMessage(), record.__dict__)

    def render(self, name: str, levelname: str, message: str, fields: Mapping[str, Any]) -> str:
        """The line of a record without a traceback: `fields` are its attributes (`extra=`)."""
        method = levelname.lower()
        line: EventDict = {"event": message}
        structlog.contextvars.merge_contextvars(None, method, line)
        structlog.stdlib.add_log_level(None, method, line)
        line["logger"] = name
        for key in _EXTRA_FIELDS:
            if key in fields:
                line[key] = fields[key]
        add_work_context(None, method, _stamp(None, method, line))
        return str(self._render(None, method, redact_secrets(None, method, line)))


def _sole_handler(logger: logging.Logger, level: int) -> logging.StreamHandler[Any] | None:
    """Our handler when it alone would handle a `level` record of `logger` (no filter on
    the way, no other handler), else None."""
    found: logging.StreamHandler[Any] | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters or current.disabled:
            return None
        for handler in current.handlers:
            if (
                found is not None
                or not getattr(handler, _HANDLER_MARK, False)
                or not isinstance(handler, logging.StreamHandler)
                or level < handler.level
                or any(type(f) is not RedactArguments for f in handler.filters)
            ):
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    return found


def direct_line(logger: logging.Logger, level: int, message: str, extra: Mapping[str, Any]) -> bool:
    """Writes what `logger.log(level, message, extra=extra)` would, without the `LogRecord`
    and the handler chain (a tenth of the access line's cost, issue #9), when our handler
    alone would write it; False (nothing written) otherwise: the caller logs it as usual.
    The caller has checked `logger.isEnabledFor(level)`; `message` has no %-arguments."""
    handler = _sole_handler(logger, level)
    formatter = handler.formatter if handler is not None else None
    if handler is None or type(formatter) is not _LineFormatter:
        return False
    text = formatter.render(logger.name, logging.getLevelName(level), message, extra)
    try:
        with handler.lock or contextlib.nullcontext():  # as `Handler.handle` and `emit`
            handler.stream.write(text + handler.terminator)
            handler.flush()
    except Exception:  # a closed or broken stream: the record path reports it (handleError)
        return False
    return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (a test runner swaps it and closes
    the one it swapped in)."""

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def wants_json(settings: Settings) -> bool:
    if settings.log_format == "auto":
        return settings.environment != "development"
    return settings.log_format == "json"


class _ReusedEncoder:
    """`json.dumps(obj, default=default)` for the JSON renderer with one encoder per
    `default`: `json.dumps` given a `default` builds a `JSONEncoder` on every call (~1 µs
    per log line). Same options, so the same bytes; an encoder keeps no state between calls."""

    def __init__(self) -> None:
        self._encoders: dict[Any, json.JSONEncoder] = {}

    def __call__(self, obj: Any, *, default: Any = None, **options: Any) -> str:
        if options:
            return json.dumps(obj, default=default, **options)
        encoder = self._encoders.get(default)
        if encoder is None:
            encoder = self._encoders.setdefault(default, json.JSONEncoder(default=default))
        return encoder.encode(obj)


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Routes the root logger through structlog (replacing a handler this function installed
    before); returns the handler so a caller (a test) can remove it."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_ReusedEncoder())
        if wants_json(settings)
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = _LineFormatter(renderer)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(formatter)
    handler.addFilter(RedactArguments())
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return handler
