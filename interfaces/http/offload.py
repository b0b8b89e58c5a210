"""Blocking endpoints that FastAPI sees as `async def` (issue #9).

FastAPI runs a `def` endpoint in the thread pool, and then validates its returned model in
the pool again: two hops, ~60 µs of CPU each (thread hand-offs), where one would do. An
endpoint decorated with `in_thread` runs its body in the pool exactly as before (same
thread pool, copied context), and FastAPI validates the result on the event loop. FastAPI
reads the signature, annotations and name through `__wrapped__`, so parameters, the
response model, OpenAPI and the command name are unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
R = TypeVar("R")


def in_thread(endpoint: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(endpoint)
    async def offloaded(*args: P.args, **kwargs: P.kwargs) -> R:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return offloaded
