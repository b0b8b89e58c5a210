"""An xdist worker collects and freezes its heap before it reports that it finished, so
pytest's collections after that (while execnet counts 5 s to a SIGINT) have nothing to walk."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tests.xdist_groups import QuickWorkerExit, pytest_configure


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_the_workers_last_collection_frees_cycles_and_freezes_the_rest(unfrozen: None) -> None:
    gc.disable()  # no automatic collection in between: the hook is what frees the cycle
    try:
        garbage = weakref.ref(Cycle())  # only the cycle collector frees it
        alive = [Cycle() for _ in range(10)]
        QuickWorkerExit().pytest_sessionfinish()
    finally:
        gc.enable()

    assert garbage() is None
    assert gc.get_freeze_count() >= len(alive)  # out of the later collections' sight


def registered(config: Any) -> set[str]:
    names: set[str] = set()
    config.pluginmanager = SimpleNamespace(register=lambda _plugin, name: names.add(name))
    pytest_configure(config)
    return names


def test_only_a_worker_registers_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RENTBOOK_STORE_DURATIONS", raising=False)
    settled = "rentbook-settled-heap"  # every process (tests/unit/test_settled_heap.py)
    assert registered(SimpleNamespace(workerinput={})) == {"rentbook-quick-worker-exit", settled}
    assert registered(SimpleNamespace()) == {settled}
