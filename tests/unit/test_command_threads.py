"""`in_thread` endpoints run in the command threads: in a copy of the caller's context, with
the body's result or error, and a cancelled caller waits for the body to finish before the
cancellation goes on (as anyio's shielded hop did)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from interfaces.http.offload import in_thread, run_in_command_thread

_who: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


def test_the_body_runs_in_another_thread_with_a_copy_of_the_callers_context() -> None:
    def body(x: int, *, y: int) -> tuple[int, str, int]:
        _who.set("changed in the thread")  # the copy only
        return x + y, _who.get(), threading.get_ident()

    async def main() -> tuple[tuple[int, str, int], str, str]:
        _who.set("caller")
        seen = contextvars.copy_context().get(_who)
        result = await in_thread(body)(1, y=2)
        return result, seen, _who.get()

    (total, inside, ident), seen, after = asyncio.run(main())
    assert total == 3 and inside == "changed in the thread" and ident != threading.get_ident()
    assert seen == after == "caller"


def test_the_bodys_error_reaches_the_caller() -> None:
    def body() -> None:
        raise LookupError("from the thread")

    with pytest.raises(LookupError, match="from the thread"):
        asyncio.run(run_in_command_thread(body))


def test_a_cancelled_caller_waits_for_the_body_then_is_cancelled() -> None:
    finished: list[float] = []
    started = threading.Event()

    def body() -> str:
        started.set()
        time.sleep(0.2)
        finished.append(time.monotonic())
        return "done"

    async def main() -> float:
        task = asyncio.ensure_future(run_in_command_thread(body))
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic()

    cancelled_at = asyncio.run(main())
    assert finished and finished[0] <= cancelled_at


def test_a_second_cancellation_does_not_stop_the_wait_for_the_body() -> None:
    finished: list[bool] = []
    started = threading.Event()

    def body() -> None:
        started.set()
        time.sleep(0.2)
        finished.append(True)

    async def main() -> bool:
        task = asyncio.ensure_future(run_in_command_thread(body))
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return bool(finished)

    assert asyncio.run(main())
