"""A serving process hides its start-up heap from the cycle collector, and uvicorn writes no
access line of its own beside the app's (issue #9: both were per-request CPU)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from infrastructure import heap
from infrastructure.settings import Settings
from interfaces.cli.main import app
from interfaces.http import asgi
from tests.unit.test_serve_command import Recorded, _settings, recorded  # noqa: F401


@pytest.fixture
def collector_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settling_freezes_what_is_alive_and_enlarges_the_young_generation(
    collector_restored: None,
) -> None:
    survivor = [object() for _ in range(100)]
    gc.unfreeze()

    heap.settle_heap()

    assert gc.get_freeze_count() >= len(survivor)
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    cycle: list[Any] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1  # what is made after settling is still collected


def test_the_worker_factory_settles_its_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(asgi, "create_app", lambda **kw: seen.append(kw))

    asgi.app()

    assert [kw["settle_heap"] for kw in seen] == [True]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_turns_uvicorns_access_line_off(
    recorded: Recorded,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    workers: str,
) -> None:
    shared = Settings(environment="test", database_url="postgresql://u@db/r", redis_url="redis://r")
    _settings(monkeypatch, shared)
    monkeypatch.setenv("RENTBOOK_API_WORKERS", "")
    built: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "interfaces.http.app.create_app", lambda container, **kw: built.append(kw) or object()
    )

    result = CliRunner().invoke(app, ["serve", "--workers", workers, "--no-seed"])

    assert result.exit_code == 0, result.output
    [(_, options)] = recorded.runs
    assert options["access_log"] is False
    assert [kw.get("settle_heap") for kw in built] == ([True] if workers == "1" else [])
