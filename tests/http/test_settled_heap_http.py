"""A serving app hides its start-up heap from the cycle collector once its lifespan has
started (infrastructure/heap.py); apps built by tests and tools leave the collector alone."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infrastructure import heap
from infrastructure.bootstrap import Container
from interfaces.http.app import create_app


def test_only_a_serving_app_settles_its_heap_when_it_starts(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(heap, "settle_heap", lambda: calls.append(1))
    serving = create_app(container, settle_heap=True)
    assert calls == []
    with TestClient(serving):
        assert calls == [1]
    with TestClient(create_app(container)):
        assert calls == [1]
