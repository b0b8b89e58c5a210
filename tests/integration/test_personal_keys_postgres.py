"""The key ring on real PostgreSQL with real threads: processes racing to make a subject's
first key all end up sealing with the one key that won, and once it is destroyed nothing
any of them sealed opens."""

from __future__ import annotations

import threading
from uuid import uuid4

from infrastructure.personal_keys import SqlKeyRing
from infrastructure.views_db import create_views_engine
from tests.master_key import MASTER

THREADS = 8


def test_racing_first_seals_share_one_key(pg_url: str) -> None:
    engine = create_views_engine(pg_url, pool_size=THREADS)
    rings = [SqlKeyRing(engine, MASTER) for _ in range(THREADS)]  # one per "process"
    subject = uuid4()
    barrier = threading.Barrier(THREADS)
    sealed: list[bytes | None] = [None] * THREADS

    def seal(i: int) -> None:
        barrier.wait()
        sealed[i] = rings[i].seal(subject, b"aad", f"secret {i}".encode())

    threads = [threading.Thread(target=seal, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    reader = SqlKeyRing(engine, MASTER)
    opened = [reader.open(subject, b"aad", s) for s in sealed if s is not None]
    assert opened == [f"secret {i}".encode() for i in range(THREADS)]
    assert reader.destroy(subject)
    assert [SqlKeyRing(engine, MASTER).open(subject, b"aad", s) for s in sealed if s] == [
        None
    ] * THREADS
    engine.dispose()
