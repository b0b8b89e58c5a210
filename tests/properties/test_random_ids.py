"""Buffered random ids (application/random_ids.py): RFC 4122 version-4 UUIDs, none repeated
across threads and refills, and a forked child's ids are not its parent's."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

import pytest

from application.random_ids import RandomIds, uuid4

T = TypeVar("T")


def drawn_in_threads(draw: Callable[[], T], threads: int = 8, each: int = 2_000) -> list[T]:
    """`each` draws in each of `threads` threads released at once (the nonces' test too)."""
    drawn: list[list[T]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def run(i: int) -> None:
        barrier.wait()
        drawn[i].extend(draw() for _ in range(each))

    started = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join(30)
    return [value for part in drawn for value in part]


def test_ids_are_rfc_4122_version_4_and_unique_across_threads_and_refills() -> None:
    ids = RandomIds(per_fill=7)  # refills many times within the run
    every = drawn_in_threads(ids.uuid4) + [uuid4() for _ in range(1_000)]
    assert len(every) == 17_000 == len(set(every))
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in every)
    assert all(uuid.UUID(str(u)) == u for u in every[:100])


def drawn_in_child(draw: Callable[[], bytes], count: int, size: int) -> list[bytes]:
    """`count` draws of `size` bytes made by a forked child, sent to this process (the
    nonces' fork test too)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, b"".join(draw() for _ in range(count)))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    return [child[i : i + size] for i in range(0, len(child), size)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    theirs = set(drawn_in_child(lambda: uuid4().bytes, 50, 16))
    parent = {uuid4().bytes for _ in range(50)}
    assert len(theirs) == 50 and not theirs & parent
