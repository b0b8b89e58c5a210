"""`CommandThreads`: every call's own outcome reaches its own future, never more threads
than its size, as many at once as calls need (up to the size), and a loop that closed
before a call finished costs the pool nothing."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from interfaces.http.offload import CommandThreads, run_in_command_thread


async def _run(pool: CommandThreads, call: Any) -> Any:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    pool.submit(loop, future, contextvars.copy_context(), call)
    return await future


def _outcome(n: int, fails: bool) -> Any:
    def call() -> int:
        if fails:
            raise ValueError(n)
        return n * n

    return call


@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(1, 6),
    batches=st.lists(st.lists(st.booleans(), min_size=1, max_size=12), min_size=1, max_size=4),
)
def test_every_call_gets_its_own_outcome_with_at_most_size_threads(
    size: int, batches: list[list[bool]]
) -> None:
    pool = CommandThreads(size, "test-command")

    async def main() -> None:
        for batch in batches:
            results = await asyncio.gather(
                *(_run(pool, _outcome(n, fails)) for n, fails in enumerate(batch)),
                return_exceptions=True,
            )
            for n, (fails, result) in enumerate(zip(batch, results, strict=True)):
                if fails:
                    assert isinstance(result, ValueError) and result.args == (n,)
                else:
                    assert result == n * n

    asyncio.run(main())
    assert 1 <= len(pool._threads) <= size


def test_calls_that_wait_for_each_other_get_a_thread_each_up_to_the_size() -> None:
    size = 5
    pool = CommandThreads(size, "test-command")
    together = threading.Barrier(size)  # passes only when `size` calls run at once

    async def main() -> list[int]:
        calls = [_run(pool, lambda: together.wait(10)) for _ in range(size)]
        return list(await asyncio.gather(*calls))

    assert sorted(asyncio.run(main())) == list(range(size))
    assert len(pool._threads) == size


def test_more_calls_than_threads_queue_and_all_finish() -> None:
    pool = CommandThreads(2, "test-command")
    release = threading.Event()

    async def main() -> list[int]:
        calls = [_run(pool, lambda n=n: release.wait(10) and n) for n in range(7)]
        asyncio.get_running_loop().call_later(0.05, release.set)
        return list(await asyncio.gather(*calls))

    assert asyncio.run(main()) == list(range(7))
    assert len(pool._threads) == 2


def test_a_call_outliving_its_loop_leaves_the_thread_serving() -> None:
    pool = CommandThreads(1, "test-command")
    started, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(10)

    async def abandon() -> None:
        loop = asyncio.get_running_loop()
        pool.submit(loop, loop.create_future(), contextvars.copy_context(), slow)
        await asyncio.to_thread(started.wait, 10)

    asyncio.run(abandon())  # its loop is closed when `slow` finishes
    other = asyncio.new_event_loop()
    pool.submit(other, other.create_future(), contextvars.copy_context(), done.set)
    release.set()
    assert done.wait(10)  # the one thread went on to the next call
    other.close()
    assert len(pool._threads) == 1


def test_run_in_command_thread_uses_the_pool() -> None:
    assert asyncio.run(run_in_command_thread(lambda: threading.current_thread().name)).startswith(
        "rentbook-command"
    )
