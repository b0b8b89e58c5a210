"""Cross-cutting HTTP behaviour: problems and auth (idempotency, positions, limits and
operations: `test_crosscutting_idempotency_http.py`)."""

from __future__ import annotations

import pytest
import sqlalchemy.exc

from tests.http.conftest import API, PASSWORD, Api
from tests.http.crosscutting_support import assert_problem

# -- problems for bad input ----------------------------------------------------------------


def test_malformed_json_is_a_422_problem(api: Api) -> None:
    r = api.client.post(
        f"{API}/auth/register",
        content=b'{"email": "a@b.c", "password":',
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(r, 422, "validation_failed")
    assert body["errors"] and {"loc", "msg"} <= body["errors"][0].keys()


def test_wrong_types_name_the_field(api: Api) -> None:
    r = api.client.post(
        f"{API}/auth/register", json={"email": "a@example.com", "password": 123, "name": ["x"]}
    )
    body = assert_problem(r, 422)
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "password") in locs and ("body", "name") in locs


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/auth/sessions?limit=0",
        f"{API}/auth/sessions?limit=101",
        f"{API}/auth/sessions?limit=100000000000000000000000000000000",
        f"{API}/auth/sessions?limit=abc",
        f"{API}/auth/sessions?cursor=%%%not-base64",
        f"{API}/auth/sessions?cursor=WzFd",  # base64 of a list: not ours
    ],
)
def test_bad_query_parameters_are_422(api: Api, path: str) -> None:
    alice = api.new_user()
    assert_problem(api.client.get(path, headers=alice.headers), 422)


def test_bad_uuid_in_path_is_422_and_never_500(api: Api) -> None:
    alice = api.new_user()
    r = api.client.delete(f"{API}/auth/sessions/not-a-uuid", headers=alice.headers)
    body = assert_problem(r, 422)
    assert body["errors"][0]["loc"] == ["path", "session_id"]


def test_deeply_nested_json_is_a_client_error(api: Api) -> None:
    r = api.client.post(
        f"{API}/auth/register",
        content=b"[" * 100_000,
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"] == "application/problem+json"


def test_unknown_route_and_wrong_method_are_problems(api: Api) -> None:
    assert_problem(api.client.get(f"{API}/nowhere"), 404, "not_found")
    r = api.client.put(f"{API}/auth/login", json={})
    assert_problem(r, 405, "method_not_allowed")
    assert "POST" in r.headers["allow"]


def test_unexpected_errors_are_a_logged_500_problem_with_the_request_id(api: Api) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    api.app.add_api_route(f"{API}/test/explode", explode, methods=["GET"])
    r = api.client.get(f"{API}/test/explode", headers={"X-Request-Id": "req-123"})
    body = assert_problem(r, 500, "internal_error")
    assert body["request_id"] == "req-123" == r.headers["X-Request-Id"]
    assert "boom" not in r.text


def test_an_unreachable_database_is_a_503_problem_to_retry(api: Api) -> None:
    def unreachable() -> None:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionError("refused"))

    api.app.add_api_route(f"{API}/test/db-down", unreachable, methods=["GET"])
    r = api.client.get(f"{API}/test/db-down")
    assert_problem(r, 503, "service_unavailable")
    assert r.headers["Retry-After"] == "1"


def test_request_ids_are_echoed_or_made_up(api: Api) -> None:
    assert api.client.get("/health", headers={"X-Request-Id": "abc-1"}).headers["X-Request-Id"] == (
        "abc-1"
    )
    made_up = api.client.get("/health", headers={"X-Request-Id": "bad id\twith space"})
    assert len(made_up.headers["X-Request-Id"]) == 36


# -- auth: 401 / 403 / 404 and cookies -----------------------------------------------------


def test_401_without_session_403_without_role_404_for_others_things(api: Api) -> None:
    alice, bob = api.new_user(), api.new_user()
    assert_problem(api.client.get(f"{API}/admin/projections"), 401, "not_authenticated")
    assert_problem(
        api.client.get(f"{API}/admin/projections", headers=alice.headers), 403, "admin_required"
    )
    bobs_session = api.client.get(f"{API}/auth/sessions", headers=bob.headers).json()["data"][0]
    r = api.client.delete(f"{API}/auth/sessions/{bobs_session['id']}", headers=alice.headers)
    assert_problem(r, 404, "session_not_found")


def test_cookie_sessions_need_the_csrf_header_on_unsafe_methods(api: Api) -> None:
    user = api.register()
    login = api.client.post(
        f"{API}/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    csrf = login.json()["csrf_token"]
    try:
        assert api.client.get(f"{API}/users/me").status_code == 200  # cookie only
        r = api.client.patch(f"{API}/users/me", json={"name": "Via Cookie"})
        assert_problem(r, 403, "csrf_failed")
        r = api.client.patch(
            f"{API}/users/me", json={"name": "Via Cookie"}, headers={"X-CSRF-Token": "wrong"}
        )
        assert_problem(r, 403, "csrf_failed")
        r = api.client.patch(
            f"{API}/users/me", json={"name": "Via Cookie"}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 200
        assert_problem(api.client.post(f"{API}/auth/logout"), 403, "csrf_failed")
        r = api.client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
        assert "rentbook_session=" in r.headers["set-cookie"]  # cleared
        assert api.client.get(f"{API}/users/me").status_code == 401
    finally:
        api.client.cookies.clear()


def test_bearer_tokens_need_no_csrf_header(api: Api) -> None:
    alice = api.new_user()
    r = api.client.patch(f"{API}/users/me", json={"name": "Bearer"}, headers=alice.headers)
    assert r.status_code == 200
