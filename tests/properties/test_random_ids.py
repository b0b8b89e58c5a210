"""Buffered random ids (application/random_ids.py): RFC 4122 version-4 UUIDs, none repeated
across threads and refills, and a forked child's ids are not its parent's."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from application.random_ids import RandomIds, uuid4


def test_ids_are_rfc_4122_version_4_and_unique_across_threads_and_refills() -> None:
    ids = RandomIds(per_fill=7)  # refills many times within the run
    drawn: list[list[uuid.UUID]] = [[] for _ in range(8)]
    barrier = threading.Barrier(8)

    def draw(i: int) -> None:
        barrier.wait()
        drawn[i].extend(ids.uuid4() for _ in range(2_000))

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    every = [u for part in drawn for u in part] + [uuid4() for _ in range(1_000)]
    assert len(every) == 17_000 == len(set(every))
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in every)
    assert all(uuid.UUID(str(u)) == u for u in every[:100])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, b"".join(uuid4().bytes for _ in range(50)))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = {uuid4().bytes for _ in range(50)}
    theirs = {child[i : i + 16] for i in range(0, len(child), 16)}
    assert len(theirs) == 50 and not theirs & parent
