"""Cross-cutting HTTP behaviour: idempotency keys, read-your-writes positions, rate limits and
the operational endpoints."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.http.app import create_app
from tests.http.conftest import API, PASSWORD, Api
from tests.http.crosscutting_support import COUNT, MISSING, Counter, assert_problem
from tests.polling import eventually

# -- idempotency ---------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_response_byte_for_byte(api: Api) -> None:
    counter = Counter(api)
    alice = api.new_user()
    headers = {**alice.headers, "Idempotency-Key": "key-1"}
    first = api.client.post(COUNT, json={"a": 1, "b": [1, 2]}, headers=headers)
    again = api.client.post(COUNT, content=b'{"b":[1,2],  "a":1}', headers=headers)
    assert counter.calls == 1
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    for name in ("X-Rentbook-Position", "Location", "ETag", "Content-Type"):
        assert again.headers[name] == first.headers[name]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["X-Request-Id"] != first.headers["X-Request-Id"]


def test_same_key_with_a_different_body_is_422(api: Api) -> None:
    counter = Counter(api)
    alice = api.new_user()
    headers = {**alice.headers, "Idempotency-Key": "key-2"}
    assert api.client.post(COUNT, json={"a": 1}, headers=headers).status_code == 201
    r = api.client.post(COUNT, json={"a": 2}, headers=headers)
    assert_problem(r, 422, "idempotency_key_reused")
    assert counter.calls == 1


def test_keys_are_per_user_and_bounded(api: Api) -> None:
    counter = Counter(api)
    alice, bob = api.new_user(), api.new_user()
    for who in (alice, bob):
        r = api.client.post(COUNT, json={}, headers={**who.headers, "Idempotency-Key": "shared"})
        assert r.status_code == 201
    assert counter.calls == 2
    too_long = {**alice.headers, "Idempotency-Key": "k" * 256}
    assert_problem(api.client.post(COUNT, json={}, headers=too_long), 422)
    longest = {**alice.headers, "Idempotency-Key": "k" * 255}
    assert api.client.post(COUNT, json={}, headers=longest).status_code == 201
    assert api.client.post(COUNT, json={}, headers=alice.headers).status_code == 201
    assert api.client.post(COUNT, json={}, headers=alice.headers).status_code == 201
    assert counter.calls == 5  # no key: no de-duplication


def test_a_request_still_in_flight_makes_the_second_409(api: Api) -> None:
    counter = Counter(api)
    counter.gate = threading.Event()
    alice = api.new_user()
    headers = {**alice.headers, "Idempotency-Key": "slow"}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(api.client.post, COUNT, json={}, headers=headers)
        eventually(lambda: counter.calls, "the first request handled", interval=0.01)
        r = api.client.post(COUNT, json={}, headers=headers)
        assert_problem(r, 409, "idempotency_key_in_flight")
        counter.gate.set()
        assert first.result().status_code == 201
    assert api.client.post(COUNT, json={}, headers=headers).headers["Idempotent-Replayed"]
    assert counter.calls == 1


def test_failed_responses_are_not_kept_and_old_keys_expire(api: Api) -> None:
    counter = Counter(api)
    headers = {"Idempotency-Key": "anon"}
    assert api.client.post(COUNT, json={}, headers=headers).status_code == 201
    api.clock.advance(hours=25)
    assert api.client.post(COUNT, json={"new": True}, headers=headers).status_code == 201
    assert counter.calls == 2
    unauthorised = {"Authorization": "Bearer nope", "Idempotency-Key": "k401"}
    assert api.client.get(f"{API}/users/me", headers=unauthorised).status_code == 401
    r = api.client.post(f"{API}/auth/logout", headers=unauthorised)
    assert r.status_code == 401 and "Idempotent-Replayed" not in r.headers
    r = api.client.post(f"{API}/auth/logout", headers=unauthorised)
    assert "Idempotent-Replayed" not in r.headers


def test_replayed_sign_up_answers_the_same_201_not_409(api: Api) -> None:
    body = {"email": "idem@example.com", "password": PASSWORD, "name": "Idem"}
    headers = {"Idempotency-Key": "signup-1"}
    first = api.client.post(f"{API}/auth/register", json=body, headers=headers)
    again = api.client.post(f"{API}/auth/register", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again.headers["X-Rentbook-Position"] == first.headers["X-Rentbook-Position"]
    assert api.client.post(f"{API}/auth/register", json=body).status_code == 409


def _parallel(api: Api, n: int, call: Callable[[], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(n)

    def go() -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: go(), range(n)))


def _twenty_requests_one_execution(api: Api) -> None:
    counter = Counter(api, delay=0.3)
    alice = api.new_user()
    headers = {**alice.headers, "Idempotency-Key": "parallel"}
    responses = _parallel(api, 20, lambda: api.client.post(COUNT, json={"x": 1}, headers=headers))
    assert counter.calls == 1
    # 503: the shared test database may refuse connections under load; never a 500.
    assert {r.status_code for r in responses} <= {201, 409, 503}
    winners = [r for r in responses if r.status_code == 201]
    assert winners and len({r.content for r in winners}) == 1


def test_twenty_parallel_requests_with_one_key_execute_once(api: Api) -> None:
    _twenty_requests_one_execution(api)


@pytest.mark.postgres
@pytest.mark.redis
def test_twenty_parallel_requests_with_one_key_execute_once_on_postgres(pg_api: Api) -> None:
    _twenty_requests_one_execution(pg_api)


# -- read your writes, ETags and rate limits -----------------------------------------------


def test_min_position_waits_for_the_views_then_answers(api: Api) -> None:
    admin = api.admin()
    api.container.runner.stop()
    user = api.register()
    r = api.client.post(
        f"{API}/auth/register",
        json={"email": "late@example.com", "password": PASSWORD, "name": "Late"},
    )
    position = r.headers["X-Rentbook-Position"]
    threading.Timer(0.3, api.container.runner.start).start()
    r = api.client.get(
        f"{API}/admin/audit",
        params={"actor": "00000000-0000-0000-0000-000000000000", "limit": 100},
        headers={**admin.headers, "X-Rentbook-Min-Position": position},
    )
    assert r.status_code == 200
    streams = {row["stream_id"] for row in r.json()["data"]}
    # The late registration is there (background work, e.g. the welcome coupon job, may
    # record after it as the system actor too).
    assert user["id"] in streams and int(position) in {row["position"] for row in r.json()["data"]}


def test_min_position_answers_503_with_retry_after_when_views_lag(api: Api) -> None:
    admin = api.admin()
    api.app.state.min_position_timeout = 0.2
    r = api.client.get(
        f"{API}/admin/audit", headers={**admin.headers, "X-Rentbook-Min-Position": "999999"}
    )
    assert_problem(r, 503, "views_behind")
    assert r.headers["Retry-After"] == "1"
    bad = {**admin.headers, "X-Rentbook-Min-Position": "-1"}
    assert_problem(api.client.get(f"{API}/admin/audit", headers=bad), 422)
    huge = {**admin.headers, "X-Rentbook-Min-Position": "9" * 40}
    assert_problem(api.client.get(f"{API}/admin/audit", headers=huge), 422)


def test_auth_endpoints_are_rate_limited_with_429_and_retry_after(api: Api) -> None:
    api.app.state.rate_limits = {"auth.register": (2, 60), "auth.login": (3, 60)}
    bodies = [{"email": f"rl{i}@example.com", "password": PASSWORD, "name": "R"} for i in range(3)]
    codes = [api.client.post(f"{API}/auth/register", json=b).status_code for b in bodies]
    assert codes == [201, 201, 429]
    r = api.client.post(f"{API}/auth/register", json=bodies[2])
    body = assert_problem(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1 and body["retry_after"] >= 1
    login = {"email": "rl0@example.com", "password": PASSWORD}
    codes = [api.client.post(f"{API}/auth/login", json=login).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


# -- operations ----------------------------------------------------------------------------


def test_health_readiness_metrics_and_openapi(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api.client.get("/health").json()["status"] == "ok"  # and the pid: serve workers
    assert api.client.get(f"{API}/health").status_code == 200
    ready = api.client.get(f"{API}/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"
    assert {"event_store", "views", "projections"} <= ready.json()["checks"].keys()
    api.client.get(f"{API}/users/me")
    api.client.delete(f"{API}/auth/sessions/{MISSING}")
    metrics = api.client.get("/metrics")
    assert metrics.status_code == 200
    assert (
        'rentbook_http_requests_total{method="GET",route="/api/v1/users/me",status="401"}'
        in metrics.text
    )
    assert 'route="/api/v1/auth/sessions/{session_id}"' in metrics.text
    assert MISSING not in metrics.text
    assert "rentbook_http_request_duration_seconds_bucket" in metrics.text
    openapi = api.client.get(f"{API}/openapi.json").json()
    assert "/api/v1/auth/register" in openapi["paths"]
    assert api.client.get("/docs").status_code == 200

    def down() -> int:
        raise ConnectionError("event store down")

    monkeypatch.setattr(api.container.store, "current_position", down)
    r = api.client.get("/health/ready")
    assert r.status_code == 503
    assert r.json()["checks"]["event_store"]["ok"] is False


@pytest.mark.postgres
@pytest.mark.redis
def test_readiness_on_postgres_checks_redis(pg_api: Api) -> None:
    r = pg_api.client.get("/health/ready")
    assert r.status_code == 200
    assert r.json()["checks"]["redis"] == {"ok": True}


def test_the_app_builds_runs_and_closes_its_own_container(sqlite_settings: Settings) -> None:
    with TestClient(create_app(settings=sqlite_settings)) as own:
        r = own.post(
            f"{API}/auth/register",
            json={"email": "own@example.com", "password": PASSWORD, "name": "Own"},
        )
        assert r.status_code == 201
        position = r.headers["X-Rentbook-Position"]
        container = own.app.state.container  # type: ignore[attr-defined]
        assert container.runner.wait_for(int(position), None, 5.0)  # workers run
        assert own.get("/health/ready").status_code == 200
