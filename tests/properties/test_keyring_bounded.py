"""The key ring's cache is bounded (infrastructure/personal_keys.py): with a cap of one to
three subjects, random seals, opens, erasures (here and by "another process") and preloads
over more subjects than fit observe exactly what an unbounded ring observes, and what the
model says (a destroyed key never comes back, even once its tombstone was evicted); the
cache never holds more than its cap. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from infrastructure.personal_keys import SqlKeyRing
from infrastructure.views_db import create_views_engine
from tests.master_key import MASTER

Op = tuple[Any, ...]
SUBJECTS = 6
subject = st.integers(0, SUBJECTS - 1)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("seal"), subject, st.binary(max_size=8)),
        st.tuples(st.just("open"), subject, st.integers(0, 5)),
        st.tuples(st.just("destroy"), subject),
        st.tuples(st.just("destroy_elsewhere"), subject),
        st.tuples(st.just("is_destroyed"), subject),
        st.tuples(st.just("forget"), subject),
        st.tuples(st.just("preload"), st.lists(subject, max_size=4)),
    ),
    max_size=40,
)


@pytest.fixture(params=["sqlite", "postgres"], name="engine")
def views_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A views engine on SQLite, then on PostgreSQL (the key ring's two homes)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = create_views_engine(url, pool_size=2)
    yield engine
    engine.dispose()


class Run:
    """One ring (with "another process" on the same table) over subjects of its own."""

    def __init__(self, engine: Engine, cap: int, seconds: float) -> None:
        self.ring = SqlKeyRing(engine, MASTER, cache_seconds=seconds, max_subjects=cap)
        self.elsewhere = SqlKeyRing(engine, MASTER)
        self.subjects = [uuid4() for _ in range(SUBJECTS)]
        self.sealed: dict[int, list[tuple[bytes, bytes]]] = {i: [] for i in range(SUBJECTS)}

    def apply(self, op: Op) -> object:
        name, i = op[0], op[1]
        if name == "preload":
            self.ring.preload(self.subjects[j] for j in i)
            return None
        s = self.subjects[i]
        if name == "seal":
            blob = self.ring.seal(s, b"aad", op[2])
            if blob is not None:
                self.sealed[i].append((blob, op[2]))
            return blob is not None
        if name == "open":
            if not self.sealed[i]:
                return None
            blob, _ = self.sealed[i][op[2] % len(self.sealed[i])]
            return self.ring.open(s, b"aad", blob)
        if name == "destroy":
            return self.ring.destroy(s)
        if name == "destroy_elsewhere":  # the mapper forgets on reading `User.Erased`
            destroyed = self.elsewhere.destroy(s)
            self.ring.forget(s)
            return destroyed
        if name == "is_destroyed":
            return self.ring.is_destroyed(s)
        self.ring.forget(s)
        return None


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(ops=operations, cap=st.integers(1, 3), seconds=st.sampled_from([0.0, 30.0]))
def test_a_tiny_cache_behaves_as_an_unbounded_one(
    engine: Engine, ops: list[Op], cap: int, seconds: float
) -> None:
    bounded, unbounded = Run(engine, cap, seconds), Run(engine, 10**6, seconds)
    destroyed: set[int] = set()
    keyed: set[int] = set()
    for op in ops:
        seen = bounded.apply(op)
        assert seen == unbounded.apply(op), op
        assert len(bounded.ring) <= cap
        name, i = op[0], op[1]
        if name == "seal":
            assert seen is (i not in destroyed)
            keyed |= {i} - destroyed
        elif name == "open" and bounded.sealed[i]:
            assert (seen is None) == (i in destroyed)
        elif name in ("destroy", "destroy_elsewhere"):
            assert seen is (i in keyed and i not in destroyed)
            destroyed.add(i)
        elif name == "is_destroyed":
            assert seen is (i in destroyed)


def test_no_thread_seals_for_a_subject_once_its_erasure_returned(engine: Engine) -> None:
    ring = SqlKeyRing(engine, MASTER, max_subjects=3)
    subjects = [uuid4() for _ in range(12)]
    erased: set[UUID] = set()
    leaks: list[UUID] = []
    errors: list[BaseException] = []

    def seal_all() -> None:
        try:
            for _ in range(5):
                for s in subjects:
                    before = s in erased  # read before the call: erased for good by then
                    if ring.seal(s, b"aad", b"x") is not None and before:
                        leaks.append(s)
        except BaseException as error:  # reported below
            errors.append(error)

    def erase_half() -> None:
        try:
            for s in subjects[::2]:
                ring.destroy(s)
                erased.add(s)
        except BaseException as error:  # a destroy racing the first seal once raised here
            errors.append(error)

    threads = [threading.Thread(target=seal_all) for _ in range(3)]
    threads.append(threading.Thread(target=erase_half))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert (errors, leaks) == ([], [])
    assert erased == set(subjects[::2])
    assert len(ring) <= 3
    assert [ring.seal(s, b"aad", b"x") is None for s in subjects] == [s in erased for s in subjects]
