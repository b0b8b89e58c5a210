"""A pytest process settles its collector as a serving process does, once every test is
collected: the imports leave the full collections' sight (tests/xdist_groups.py)."""

from __future__ import annotations

import pytest

from tests import xdist_groups
from tests.xdist_groups import SettledHeap


def test_the_heap_is_settled_once_the_tests_are_collected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Recorded, not run: settling here would freeze this test's garbage-to-be; what
    # `settle_heap` does is tests/unit/test_serving_process.py's to check.
    settled: list[bool] = []
    monkeypatch.setattr(xdist_groups, "settle_heap", lambda: settled.append(True))

    SettledHeap().pytest_collection_finish()

    assert settled == [True]


def test_the_hook_runs_after_the_other_plugins_collection_hooks() -> None:
    hook = SettledHeap.pytest_collection_finish
    assert hook.pytest_impl["trylast"] is True  # type: ignore[attr-defined]
