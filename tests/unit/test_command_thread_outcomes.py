"""Outcomes a command thread must hand back however the call ends (task RB's review).

An asyncio future refuses `StopIteration` (`set_exception` raises TypeError on Python 3.11),
so a call that let one escape (a bare `next()` on an empty iterator) left its caller's
future unsettled: the request hung for good, holding its connection, and its cancellation
waited for that future too. anyio's pool, used before, handed it back as a RuntimeError."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any

import pytest

from interfaces.http.offload import CommandThreads, run_in_command_thread

LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("LABEL", default="unset")


def _empty_next() -> int:
    return int(next(iter(())))


async def _call(pool: CommandThreads, fn: Callable[[], Any]) -> Any:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    pool.submit(loop, future, contextvars.copy_context(), fn)
    return await asyncio.wait_for(future, 30)  # a guard against a hang, not a timing check


def test_a_stop_iteration_reaches_the_caller_as_a_runtime_error_and_the_pool_serves_on() -> None:
    pool = CommandThreads(1, "rb-outcomes")

    async def main() -> None:
        with pytest.raises(RuntimeError) as caught:
            await _call(pool, _empty_next)
        assert isinstance(caught.value.__cause__, StopIteration)
        assert await _call(pool, lambda: 7) == 7

    asyncio.run(main())


def test_run_in_command_thread_answers_a_stop_iteration() -> None:
    """Through the shielded hop the endpoints use (whose cancellation waits for the call)."""
    outcome: list[BaseException] = []

    async def main() -> None:
        try:
            await run_in_command_thread(_empty_next)
        except BaseException as exc:
            outcome.append(exc)

    runner = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    runner.start()
    runner.join(30)
    assert not runner.is_alive(), "the caller was never answered"
    assert [type(e) for e in outcome] == [RuntimeError]


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit, GeneratorExit, ValueError])
def test_other_exceptions_reach_the_caller_as_raised(exc: type[BaseException]) -> None:
    """As a ThreadPoolExecutor and anyio do: the caller gets what the call raised."""
    pool = CommandThreads(1, "rb-outcomes")

    def fail() -> None:
        raise exc

    async def main() -> None:
        with pytest.raises(exc):
            await _call(pool, fail)
        assert await _call(pool, lambda: 7) == 7

    asyncio.run(main())


def test_each_call_sees_the_callers_context_and_its_changes_stay_in_the_thread() -> None:
    def read_and_set() -> str:
        seen = LABEL.get()
        LABEL.set("thread")
        return seen

    async def one(label: str) -> tuple[str, str]:
        LABEL.set(label)
        seen = await run_in_command_thread(read_and_set)
        return seen, LABEL.get()

    async def main() -> list[tuple[str, str]]:
        return await asyncio.gather(*(one(f"r{i}") for i in range(64)))

    assert asyncio.run(main()) == [(f"r{i}", f"r{i}") for i in range(64)]


def test_a_thread_that_cannot_start_fails_its_call_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Thread.start` can fail (RuntimeError: can't start new thread, at a process's thread
    limit). Before, the call was already queued and the dead thread counted: the caller got
    the error while its command could still run later, and a pool of one never served again."""
    pool = CommandThreads(1, "rb-start")
    ran: list[str] = []
    real_start = threading.Thread.start

    def refuse(self: threading.Thread) -> None:
        monkeypatch.setattr(threading.Thread, "start", real_start)  # only the first
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)

    async def main() -> None:
        with pytest.raises(RuntimeError, match="can't start"):
            await _call(pool, lambda: ran.append("refused"))
        assert await _call(pool, lambda: ran.append("next") or 7) == 7

    asyncio.run(main())
    assert ran == ["next"]
