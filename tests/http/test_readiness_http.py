"""/health/ready reports every dependency and every projection's lag against the
thresholds in Settings, and answers 503 when any is down or too far behind; on the
embedded default and on PostgreSQL + Redis."""

from __future__ import annotations

import pytest

from tests.http.conftest import Api

DEPENDENCIES = {"event_store", "views", "search", "job_queue"}


def _ready(api: Api) -> tuple[int, dict[str, object]]:
    r = api.client.get("/health/ready")
    body: dict[str, object] = r.json()
    return r.status_code, body


def _views(body: dict[str, object]) -> dict[str, dict[str, object]]:
    checks = body["checks"]
    assert isinstance(checks, dict)
    views: dict[str, dict[str, object]] = checks["projections"]
    return views


def _a_view_falls_behind_its_threshold(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.container.runner.stop()  # nothing applies new events now
    monkeypatch.setattr(api.container.settings, "ready_max_lag_events", 0)
    api.new_user()
    status, body = _ready(api)
    assert status == 503 and body["status"] == "lagging"
    behind = {name for name, v in _views(body).items() if not v["ok"]}
    assert behind, body
    assert all(_views(body)[n]["lag_events"] for n in behind)  # type: ignore[index]


def test_ready_reports_each_dependency_and_each_views_lag(api: Api) -> None:
    api.new_user()
    status, body = _ready(api)
    assert status == 200 and body["status"] == "ok", body
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert all(checks[name] == {"ok": True} for name in DEPENDENCIES)
    views = _views(body)
    assert set(views) == {s["name"] for s in api.container.runner.status()}
    for view in views.values():
        assert view["ok"] is True
        assert {"status", "lag_events", "lag_seconds"} <= view.keys()


def test_a_view_behind_its_lag_threshold_makes_the_api_unready(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _a_view_falls_behind_its_threshold(api, monkeypatch)


def test_a_down_search_backend_or_job_queue_makes_the_api_unready(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_: object, **__: object) -> None:
        raise ConnectionError("down")

    assert api.container.search is not None
    monkeypatch.setattr(api.container.search, "get", down)
    status, body = _ready(api)
    assert status == 503 and body["status"] == "unavailable"
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["search"] == {"ok": False, "error": "ConnectionError"}
    monkeypatch.undo()
    wiring = api.container.payments_wiring
    assert wiring is not None
    monkeypatch.setattr(wiring.jobs, "depth", down)
    status, body = _ready(api)
    assert status == 503
    assert body["checks"]["job_queue"]["ok"] is False  # type: ignore[index]


@pytest.mark.postgres
@pytest.mark.redis
def test_ready_on_postgres_reports_redis_search_and_the_rq_queue(pg_api: Api) -> None:
    pg_api.new_user()
    status, body = _ready(pg_api)
    assert status == 200, body
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert all(checks[name] == {"ok": True} for name in {*DEPENDENCIES, "redis"})
    assert all(v["ok"] for v in _views(body).values())


@pytest.mark.postgres
@pytest.mark.redis
def test_on_postgres_a_lagging_view_or_a_down_redis_makes_it_unready(
    pg_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert pg_api.container.redis is not None

    def down() -> None:
        raise ConnectionError("redis down")

    with monkeypatch.context() as patch:
        patch.setattr(pg_api.container.redis, "ping", down)
        status, body = _ready(pg_api)
        assert status == 503 and body["checks"]["redis"]["ok"] is False  # type: ignore[index]
    _a_view_falls_behind_its_threshold(pg_api, monkeypatch)
