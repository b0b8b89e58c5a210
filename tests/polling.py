"""Waiting in tests for what happens elsewhere: a job on the worker thread or rq, the views
and the search index following the events, a server starting. One loop for all of them so
every wait is bounded and says what it waited for when it gives up."""

import time
from collections.abc import Callable
from typing import TypeVar

from httpx import Response

T = TypeVar("T")

# Generous: the suite shares a loaded machine with other test runs and benchmarks, and a
# wait only takes this long when something is broken.
TIMEOUT = 30.0


def eventually(
    check: Callable[[], T | None],
    what: str,
    *,
    timeout: float = TIMEOUT,
    interval: float = 0.1,
    seen: Callable[[], object] | None = None,
) -> T:
    """The first truthy value of `check()`, asked every `interval` seconds (it may act
    too: run the scheduler, catch a process up). After `timeout` it is asked once more,
    then an AssertionError names `what` and the last value (or `seen()`, when given)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            last = seen() if seen is not None else value
            raise AssertionError(f"{what}: not within {timeout:g}s (last seen: {last!r})")
        time.sleep(interval)


def answered(request: Callable[[], Response], what: str, *, interval: float = 0.2) -> Response:
    """The first answer to `request()` that is not a 503: a read waiting for a position
    answers 503 (Retry-After) while the views or the index are still behind, which a
    loaded machine can stretch past one wait, so it is asked again."""

    def not_behind() -> Response | None:
        r = request()
        return None if r.status_code == 503 else r

    return eventually(not_behind, what, interval=interval)
