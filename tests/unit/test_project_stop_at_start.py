"""`rentbook project` told to stop (SIGTERM: `docker compose stop`, a deploy) while it is
still starting (building its container: migrations, view tables) stops there: before, it
went on to start its children, the projection threads and the singletons, only to stop
them a moment later."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infrastructure.settings import Settings
from interfaces.cli import project


def test_sigterm_while_starting_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        environment="test", database_url="postgresql://x@127.0.0.1/rb", data_dir=tmp_path / "var"
    )
    started: list[str] = []
    closed: list[bool] = []

    def build_container(_settings: Settings) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the container is built
        runner = SimpleNamespace(own=lambda _names: None, start=lambda: started.append("runner"))
        return SimpleNamespace(runner=runner, close=lambda: closed.append(True))

    monkeypatch.setattr(project, "get_settings", lambda: settings)
    monkeypatch.setattr(project, "build_container", build_container)
    monkeypatch.setattr(project.Children, "start", lambda self: started.append("children"))
    monkeypatch.setattr(project, "start_singletons", lambda _c: started.append("singletons"))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        project.project(processes=2, views=None, singletons=None, supervised=False)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert started == []
    assert closed == [True]
