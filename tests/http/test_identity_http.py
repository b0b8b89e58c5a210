"""Identity over HTTP: sign-up, login and lockout, sessions, profile, roles."""

from __future__ import annotations

import pytest

from tests.http.conftest import API, PASSWORD, Api


def problem_code(response: object) -> str:
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    return str(response.json()["code"])  # type: ignore[attr-defined]


def test_register_answers_201_with_the_user_its_etag_and_position(api: Api) -> None:
    r = api.client.post(
        f"{API}/auth/register",
        json={"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada", "phone": "+44 1234"},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["email"] == "ada@example.com"
    assert body["roles"] == ["renter"]
    assert r.headers["ETag"] == '"2"'  # signed up, and the verification token issued
    assert body["email_verified"] is False
    assert int(r.headers["X-Rentbook-Position"]) > 0
    assert "password" not in r.text


def test_duplicate_email_is_409_case_insensitively(api: Api) -> None:
    api.register("bob@example.com")
    r = api.client.post(
        f"{API}/auth/register",
        json={"email": "BOB@example.com", "password": PASSWORD, "name": "Bob"},
    )
    assert r.status_code == 409
    assert problem_code(r) == "email_taken"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "c@example.com", "password": "short", "name": "C"}, "weak_password"),
        ({"email": "not-an-email", "password": PASSWORD, "name": "C"}, "invalid_email"),
        ({"email": "c@example.com", "password": PASSWORD, "name": "C\x00"}, "validation_failed"),
        ({"email": "c@example.com", "password": PASSWORD}, "validation_failed"),
        ({"email": "c@x.com", "password": PASSWORD, "name": "C", "x": 1}, "validation_failed"),
    ],
)
def test_bad_sign_ups_are_422(api: Api, body: dict[str, str], code: str) -> None:
    r = api.client.post(f"{API}/auth/register", json=body)
    assert r.status_code == 422
    assert problem_code(r) == code


def test_login_answers_token_and_sets_a_secure_httponly_cookie(api: Api) -> None:
    user = api.register()
    r = api.client.post(f"{API}/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token"] and body["csrf_token"] and body["expires_at"]
    assert body["user"]["id"] == user["id"]
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"rentbook_session={body['token']}")
    for attribute in ("HttpOnly", "SameSite=lax", "Secure", "Path=/"):
        assert attribute.lower() in cookie.lower()
    assert r.headers["Cache-Control"] == "no-store"


def test_wrong_password_and_unknown_email_are_both_401(api: Api) -> None:
    user = api.register()
    for email in (user["email"], "nobody@example.com"):
        r = api.client.post(f"{API}/auth/login", json={"email": email, "password": "wrong pass 1"})
        assert r.status_code == 401
        assert problem_code(r) == "invalid_credentials"


def test_five_failures_lock_the_account_with_423_and_retry_after(api: Api) -> None:
    user = api.register()
    wrong = {"email": user["email"], "password": "wrong password"}
    statuses = [api.client.post(f"{API}/auth/login", json=wrong).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    right = {"email": user["email"], "password": PASSWORD}
    r = api.client.post(f"{API}/auth/login", json=right)
    assert r.status_code == 423
    assert problem_code(r) == "account_locked"
    assert r.json()["locked_until"]
    assert 1 <= int(r.headers["Retry-After"]) <= 15 * 60
    api.clock.advance(minutes=16)
    assert api.client.post(f"{API}/auth/login", json=right).status_code == 200


def test_me_needs_a_session_and_answers_the_profile_with_etag(api: Api) -> None:
    assert api.client.get(f"{API}/users/me").status_code == 401
    r = api.client.get(f"{API}/users/me", headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    alice = api.new_user()
    r = api.client.get(f"{API}/users/me", headers=alice.headers)
    assert r.status_code == 200
    assert r.json()["id"] == alice.id
    assert r.headers["ETag"] == '"3"'  # signed up, token issued, email verified


def test_patch_me_with_if_match_updates_and_a_stale_version_is_412(api: Api) -> None:
    alice = api.new_user()
    r = api.client.patch(
        f"{API}/users/me", json={"name": "Alice B"}, headers={**alice.headers, "If-Match": '"3"'}
    )
    assert r.status_code == 200
    assert r.json()["name"] == "Alice B"
    assert r.headers["ETag"] == '"4"'
    assert int(r.headers["X-Rentbook-Position"]) > 0
    stale = api.client.patch(
        f"{API}/users/me", json={"name": "Again"}, headers={**alice.headers, "If-Match": '"3"'}
    )
    assert stale.status_code == 412
    assert problem_code(stale) == "version_mismatch"
    garbage = api.client.patch(
        f"{API}/users/me", json={"name": "Again"}, headers={**alice.headers, "If-Match": "abc"}
    )
    assert garbage.status_code == 412
    unconditional = api.client.patch(f"{API}/users/me", json={"phone": ""}, headers=alice.headers)
    assert unconditional.status_code == 200


def test_logout_ends_the_session(api: Api) -> None:
    alice = api.new_user()
    r = api.client.post(f"{API}/auth/logout", headers=alice.headers)
    assert r.status_code == 204
    assert api.client.get(f"{API}/users/me", headers=alice.headers).status_code == 401
    assert api.client.post(f"{API}/auth/logout", headers=alice.headers).status_code == 401


def test_sessions_are_listed_paged_and_revocable_but_only_ones_own(api: Api) -> None:
    alice = api.new_user()
    second = api.login(alice.email)
    third = api.login(alice.email)
    r = api.client.get(f"{API}/auth/sessions", headers=alice.headers)
    assert r.status_code == 200
    sessions = r.json()["data"]
    assert len(sessions) == 3
    assert [s["current"] for s in sessions] == [True, False, False]
    first_page = api.client.get(f"{API}/auth/sessions?limit=2", headers=alice.headers).json()
    assert len(first_page["data"]) == 2 and first_page["next_cursor"]
    rest = api.client.get(
        f"{API}/auth/sessions",
        params={"limit": 2, "cursor": first_page["next_cursor"]},
        headers=alice.headers,
    ).json()
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None

    other_id = sessions[1]["id"]
    bob = api.new_user()
    assert (
        api.client.delete(f"{API}/auth/sessions/{other_id}", headers=bob.headers).status_code == 404
    )
    assert (
        api.client.delete(f"{API}/auth/sessions/{other_id}", headers=alice.headers).status_code
        == 204
    )
    assert api.client.get(f"{API}/users/me", headers=second.headers).status_code == 401
    assert api.client.get(f"{API}/users/me", headers=third.headers).status_code == 200


def test_only_admins_grant_roles(api: Api) -> None:
    alice = api.new_user()
    bob = api.new_user()
    url = f"{API}/admin/users/{bob.id}/roles"
    assert api.client.post(url, json={"role": "owner"}).status_code == 401
    r = api.client.post(url, json={"role": "owner"}, headers=alice.headers)
    assert r.status_code == 403
    assert problem_code(r) == "admin_required"
    admin = api.admin()
    r = api.client.post(url, json={"role": "owner"}, headers=admin.headers)
    assert r.status_code == 200
    assert set(r.json()["roles"]) == {"renter", "owner"}
    assert api.client.post(url, json={"role": "god"}, headers=admin.headers).status_code == 422
    missing = f"{API}/admin/users/00000000-0000-4000-8000-000000000000/roles"
    r = api.client.post(missing, json={"role": "owner"}, headers=admin.headers)
    assert r.status_code == 404
    r = api.client.post(url, json={"role": "admin"}, headers=admin.headers)
    assert "admin" in r.json()["roles"]
    assert api.client.get(f"{API}/admin/projections", headers=bob.headers).status_code == 200


@pytest.mark.postgres
@pytest.mark.redis
def test_identity_round_trip_on_postgres_and_redis(pg_api: Api) -> None:
    alice = pg_api.new_user()
    r = pg_api.client.patch(
        f"{API}/users/me", json={"name": "PG Alice"}, headers={**alice.headers, "If-Match": '"3"'}
    )
    assert r.status_code == 200 and r.headers["ETag"] == '"4"'
    sessions = pg_api.client.get(f"{API}/auth/sessions", headers=alice.headers).json()["data"]
    assert len(sessions) == 1
    assert pg_api.client.post(f"{API}/auth/logout", headers=alice.headers).status_code == 204
    assert pg_api.client.get(f"{API}/users/me", headers=alice.headers).status_code == 401
    wrong = {"email": alice.email, "password": "wrong password"}
    codes = [pg_api.client.post(f"{API}/auth/login", json=wrong).status_code for _ in range(5)]
    assert codes[-1] == 423
