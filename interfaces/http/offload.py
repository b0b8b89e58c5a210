"""Blocking endpoints that FastAPI sees as `async def` (issue #9).

FastAPI runs a `def` endpoint in the thread pool, and then validates its returned model in
the pool again: two hops, ~60 µs of CPU each (thread hand-offs), where one would do. An
endpoint decorated with `in_thread` runs its body in a thread exactly as before (copied
context, the caller's cancellation waits for the body to finish), and FastAPI validates the
result on the event loop. FastAPI reads the signature, annotations and name through
`__wrapped__`, so parameters, the response model, OpenAPI and the command name are unchanged.

The threads are `COMMANDS`, not anyio's pool behind `run_in_threadpool`: anyio spends a
loop turn (`checkpoint`), a capacity limiter, a cancel scope and a Python `Queue` (lock,
`Condition.notify`) on every hop, each item put to one chosen idle thread, which must be
woken. On POST /bookings the wake in `Condition.notify` alone was 12% of the GIL-held samples
(bench/README.md, P1). Nor a `ThreadPoolExecutor` (as from P1 to task BK): its hop is a
`concurrent.futures.Future` (a `Condition`, set and notified under it) chained to an asyncio
future (`wrap_future`: callbacks on both sides, a state copy) and an idle count kept in a
Python `Semaphore`, ~6% of POST /bookings' GIL-held samples. `CommandThreads` puts the call
on a C `SimpleQueue` that every idle thread takes from, and the thread hands the outcome
straight to the caller's asyncio future on its loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# As many as anyio's default limiter allows (40): the same concurrency as before.
COMMAND_THREADS = 40

_Item = tuple[
    asyncio.AbstractEventLoop, asyncio.Future[Any], contextvars.Context, Callable[[], Any]
]


def _settle(future: asyncio.Future[Any], ok: bool, outcome: Any) -> None:
    if not future.done():
        if ok:
            future.set_result(outcome)
        else:
            future.set_exception(outcome)


class CommandThreads:
    """Up to `size` threads, started as calls find none idle, taking calls from one queue.
    Daemon threads, as a request's command never outlives the server's graceful shutdown
    (uvicorn waits for its requests) and an idle thread must not hold the interpreter."""

    def __init__(self, size: int, name: str) -> None:
        self.size, self.name = size, name
        self._calls: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads about to take a call no other call has been counted for
        self._threads: list[threading.Thread] = []

    def submit(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        context: contextvars.Context,
        call: Callable[[], Any],
    ) -> None:
        """Runs `context.run(call)` in a thread; its result or error settles `future` on
        `loop` (unless that future is done by then, or the loop closed). Raises, and never
        runs the call, if a thread it needs cannot start."""
        thread = None
        with self._lock:
            if self._idle:
                self._idle -= 1
            elif len(self._threads) < self.size:  # else the first thread to finish takes it
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}_{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
        if thread is not None:
            try:
                thread.start()
            except BaseException:  # queued, the call would run behind its caller's error
                with self._lock:
                    self._threads.remove(thread)
                raise
        self._calls.put((loop, future, context, call))

    def _work(self) -> None:
        while True:
            loop, future, context, call = self._calls.get()
            try:
                ok, outcome = True, context.run(call)
            except StopIteration as exc:  # a future refuses it (TypeError): the caller hung
                ok, outcome = False, RuntimeError("a command raised StopIteration")
                outcome.__cause__ = exc
            except BaseException as exc:  # as an executor: the caller gets it
                ok, outcome = False, exc
            del call, context  # nothing of the request kept while idle
            with contextlib.suppress(RuntimeError):  # a loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(_settle, future, ok, outcome)
            del loop, future, outcome
            with self._lock:
                self._idle += 1


COMMANDS = CommandThreads(COMMAND_THREADS, "rentbook-command")


async def run_in_command_thread(call: Callable[[], R]) -> R:
    """`call()` in a command thread with a copy of this context. Cancelled meanwhile, it
    waits for `call` to finish (as anyio's shielded hop does) and then lets the cancellation
    go on: a command is never left running behind a request that looks finished."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[R] = loop.create_future()
    COMMANDS.submit(loop, future, contextvars.copy_context(), call)
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
