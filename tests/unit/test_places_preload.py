"""A serving API worker builds the places index in the background at start-up, so its first
/places request does not (it took >10 s on a loaded machine); RENTBOOK_PLACES_PRELOAD=0 turns
that off (the served test processes that never ask for a city)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from application.places import Place, Places
from infrastructure.settings import Settings
from interfaces.http import app as app_module


class BlockedPlaces(Places):
    def __init__(self) -> None:
        self.release, self.loaded = threading.Event(), threading.Event()

    def load(self) -> None:
        self.release.wait(10)
        self.loaded.set()

    def autocomplete(self, q: str, limit: int = 10, country: str | None = None) -> list[Place]:
        return []

    def timezone_at(self, lat: float, lng: float) -> str | None:
        return None

    def largest(self, limit: int, country: str | None = None) -> list[Place]:
        return []


def test_preload_returns_at_once_and_loads_in_a_daemon_thread() -> None:
    places = BlockedPlaces()

    thread = app_module.preload_places(places)

    assert thread.daemon and thread.is_alive() and not places.loaded.is_set()
    places.release.set()
    thread.join(10)
    assert places.loaded.is_set()


@pytest.mark.parametrize("preload", [True, False])
def test_a_serving_app_preloads_places_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, preload: bool
) -> None:
    started: list[Places] = []
    monkeypatch.setattr(app_module.heap, "settle_heap", lambda: None)  # keep this process's gc
    monkeypatch.setattr(app_module, "preload_places", started.append)
    settings = Settings(
        environment="test", data_dir=tmp_path, workers_in_process=False, places_preload=preload
    )

    with TestClient(app_module.create_app(settings=settings, settle_heap=True)) as client:
        assert client.get("/health").status_code == 200
        container = client.app.state.container  # type: ignore[attr-defined]

    assert started == ([container.places] if preload else [])


def test_an_app_that_does_not_serve_builds_nothing_up_front(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started: list[Places] = []
    monkeypatch.setattr(app_module, "preload_places", started.append)
    settings = Settings(environment="test", data_dir=tmp_path, workers_in_process=False)

    with TestClient(app_module.create_app(settings=settings)) as client:
        assert client.get("/health").status_code == 200

    assert started == []
