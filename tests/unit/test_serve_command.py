"""`rentbook serve` wires the plan: several API workers through uvicorn's factory import
string, the background workers started once in the parent; one worker with the app object.
uvicorn and the container are replaced, so nothing listens and nothing connects."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from typer.testing import CliRunner

from infrastructure.settings import Settings
from interfaces.cli import serve as serve_module
from interfaces.cli.main import app


@dataclass
class FakeStore:
    def current_position(self) -> int:
        return 1  # not empty: no seeding


@dataclass
class FakeContainer:
    settings: Settings
    store: FakeStore = field(default_factory=FakeStore)
    started: int = 0
    closed: int = 0
    listening: int = 0

    def start_workers(self) -> None:
        self.started += 1

    def start_stream_notices(self) -> None:
        self.listening += 1

    def close(self) -> None:
        self.closed += 1


@dataclass
class Recorded:
    containers: list[FakeContainer] = field(default_factory=list)
    runs: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    seen = Recorded()

    def build(settings: Settings) -> FakeContainer:
        container = FakeContainer(settings)
        seen.containers.append(container)
        return container

    monkeypatch.setattr(serve_module, "build_container", build)
    monkeypatch.setattr(serve_module, "start_seals", lambda container: None)
    monkeypatch.setattr(serve_module.uvicorn, "run", lambda a, **kw: seen.runs.append((a, kw)))
    monkeypatch.delenv("RENTBOOK_API_WORKERS", raising=False)
    return seen


def _settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(serve_module, "get_settings", lambda: settings)


def test_several_workers_spawn_from_the_factory_and_the_parent_runs_the_background_once(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = Settings(environment="test", database_url="postgresql://u@db/r", redis_url="redis://r")
    _settings(monkeypatch, shared)
    monkeypatch.setenv("RENTBOOK_API_WORKERS", "")  # restored after the test

    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--no-seed"])

    assert result.exit_code == 0, result.output
    [(target, options)] = recorded.runs
    assert target == "interfaces.http.asgi:app"
    assert options["factory"] is True and options["workers"] == 2
    assert [c.started for c in recorded.containers] == [1]  # the parent's, once
    assert [c.closed for c in recorded.containers] == [1]
    assert [c.listening for c in recorded.containers] == [0]  # each spawned app listens itself
    assert os.environ["RENTBOOK_API_WORKERS"] == "2"  # what the spawned workers read


def test_one_worker_serves_the_app_object_with_the_background_in_process(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(monkeypatch, Settings(environment="test"))

    result = CliRunner().invoke(app, ["serve", "--workers", "3", "--no-seed"])

    assert result.exit_code == 0, result.output
    [(target, options)] = recorded.runs
    assert not isinstance(target, str) and "workers" not in options
    assert [c.started for c in recorded.containers] == [1]
    # the app borrows the container, so serve starts its worker's stream notices
    assert [c.listening for c in recorded.containers] == [1]
    assert recorded.containers[0].settings.api_workers == 1  # so /dev/clock works
    assert "serving with one API worker, not 3" in result.output


@pytest.mark.parametrize("flag", ["--no-background", "--no-workers"])
def test_no_background_starts_nothing_here(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    shared = Settings(environment="test", database_url="postgresql://u@db/r", redis_url="redis://r")
    _settings(monkeypatch, shared)
    monkeypatch.setenv("RENTBOOK_API_WORKERS", "")

    result = CliRunner().invoke(app, ["serve", "--workers", "2", flag, "--no-seed"])

    assert result.exit_code == 0, result.output
    assert [c.started for c in recorded.containers] == [0]
    assert "background workers off" in result.output
