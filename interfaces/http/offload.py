"""Blocking endpoints that FastAPI sees as `async def` (issue #9).

FastAPI runs a `def` endpoint in the thread pool, and then validates its returned model in
the pool again: two hops, ~60 µs of CPU each (thread hand-offs), where one would do. An
endpoint decorated with `in_thread` runs its body in a thread exactly as before (copied
context, the caller's cancellation waits for the body to finish), and FastAPI validates the
result on the event loop. FastAPI reads the signature, annotations and name through
`__wrapped__`, so parameters, the response model, OpenAPI and the command name are unchanged.

The threads are `COMMANDS`, a `ThreadPoolExecutor`, not anyio's pool behind
`run_in_threadpool`: anyio spends a loop turn (`checkpoint`), a capacity limiter, a cancel
scope and a Python `Queue` (lock, `Condition.notify`) on every hop, each item put to one
chosen idle thread, which must be woken. The executor's queue is C (`SimpleQueue`) and shared:
a thread that finishes takes the next command without sleeping. On POST /bookings the wake in
`Condition.notify` alone was 12% of the GIL-held samples (bench/README.md, P1).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# As many as anyio's default limiter allows (40): the same concurrency as before.
COMMAND_THREADS = 40
COMMANDS = ThreadPoolExecutor(COMMAND_THREADS, thread_name_prefix="rentbook-command")


async def run_in_command_thread(call: Callable[[], R]) -> R:
    """`call()` in a command thread with a copy of this context. Cancelled meanwhile, it
    waits for `call` to finish (as anyio's shielded hop does) and then lets the cancellation
    go on: a command is never left running behind a request that looks finished."""
    context = contextvars.copy_context()
    future = asyncio.get_running_loop().run_in_executor(COMMANDS, context.run, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        while not future.done():
            try:
                await asyncio.wait((future,))
            except asyncio.CancelledError:
                continue
        if not future.cancelled():
            future.exception()  # seen: the cancellation is what goes on
        raise


def in_thread(endpoint: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(endpoint)
    async def offloaded(*args: P.args, **kwargs: P.kwargs) -> R:
        return await run_in_command_thread(functools.partial(endpoint, *args, **kwargs))

    return offloaded
