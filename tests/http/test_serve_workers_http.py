"""What an API worker says about itself, and the dev clock's refusal with several workers
(each worker process would move only its own clock)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infrastructure.bootstrap import build_container
from infrastructure.settings import Settings
from interfaces.http.asgi import app as worker_app
from tests.http.conftest import API, CHEAP_ARGON2, Api, https_client, make_app


def test_health_tells_the_worker_pid_and_that_it_runs_the_background_workers(api: Api) -> None:
    body = api.client.get("/health").json()
    assert body == {"status": "ok", "pid": os.getpid(), "background_workers": True}


@pytest.fixture
def several_workers(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(environment="test", data_dir=tmp_path / "var", api_workers=2)
    container = build_container(settings, **CHEAP_ARGON2)
    try:
        with https_client(make_app(container)) as client:
            yield client
    finally:
        container.close()


def test_the_dev_clock_refuses_when_several_api_workers_serve(
    several_workers: TestClient,
) -> None:
    r = several_workers.get(f"{API}/dev/clock")
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "clock_needs_one_worker"


def test_an_api_worker_process_never_starts_the_background_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENTBOOK_ENVIRONMENT", "test")
    monkeypatch.setenv("RENTBOOK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RENTBOOK_WORKERS_IN_PROCESS", "true")  # the factory overrides it
    with TestClient(worker_app()) as client:  # runs the lifespan, as uvicorn would
        body = client.get("/health").json()
        container = client.app.state.container  # type: ignore[attr-defined]
        assert container.settings.workers_in_process is False
    assert body["background_workers"] is False
