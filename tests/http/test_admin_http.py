"""Admin over HTTP: stream replay, time travel, the audit index and projections."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.http.conftest import API, Api, Auth

MISSING = "00000000-0000-4000-8000-000000000000"


def _renamed_twice(api: Api) -> tuple[Auth, datetime]:
    """A user at version 5 (signed up at 1, mailed a token at 2, verified at 3, renamed at
    4 and 5); returns them and an instant between versions 4 and 5."""
    alice = api.new_user(name="Alice")
    headers = {**alice.headers, "X-Request-Id": "rename-1"}
    assert api.client.patch(f"{API}/users/me", json={"name": "Alice 2"}, headers=headers).is_success
    time.sleep(0.02)
    between = datetime.now(UTC)
    time.sleep(0.02)
    assert api.client.patch(
        f"{API}/users/me", json={"name": "Alice 3"}, headers=alice.headers
    ).is_success
    return alice, between


def test_stream_events_carry_envelope_and_payload_without_secrets(api: Api) -> None:
    admin = api.admin()
    alice, _ = _renamed_twice(api)
    r = api.client.get(f"{API}/admin/streams/{alice.id}/events", headers=admin.headers)
    assert r.status_code == 200
    events = r.json()["data"]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert events[0]["type"] == "User.Registered"
    assert events[0]["payload"]["password_hash"] == "[redacted]"
    assert events[1]["type"] == "User.TokenIssued"
    assert events[1]["payload"]["token_id"] == "[redacted]"
    renamed = events[3]
    assert renamed["actor_id"] == alice.id and renamed["actor_role"] == "user"
    assert renamed["request_id"] == "rename-1" == renamed["correlation_id"]
    assert renamed["payload"]["name"] == "Alice 2"
    assert datetime.fromisoformat(renamed["recorded_at"]).tzinfo is not None
    assert "argon2" not in r.text


def test_stream_events_page_from_a_version(api: Api) -> None:
    admin = api.admin()
    alice, _ = _renamed_twice(api)
    url = f"{API}/admin/streams/{alice.id}/events"
    page = api.client.get(url, params={"from_version": 4, "limit": 1}, headers=admin.headers)
    assert [e["version"] for e in page.json()["data"]] == [4]
    cursor = page.json()["next_cursor"]
    rest = api.client.get(url, params={"limit": 1, "cursor": cursor}, headers=admin.headers)
    assert [e["version"] for e in rest.json()["data"]] == [5]
    assert rest.json()["next_cursor"] is None
    r = api.client.get(f"{API}/admin/streams/{MISSING}/events", headers=admin.headers)
    assert r.status_code == 404 and r.json()["code"] == "stream_not_found"
    r = api.client.get(f"{API}/admin/streams/nope/events", headers=admin.headers)
    assert r.status_code == 422
    r = api.client.get(url, params={"from_version": 0}, headers=admin.headers)
    assert r.status_code == 422


def test_state_travels_to_a_version_or_an_instant(api: Api) -> None:
    admin = api.admin()
    alice, between = _renamed_twice(api)
    url = f"{API}/admin/streams/{alice.id}/state"
    now = api.client.get(url, headers=admin.headers).json()
    assert now["version"] == 5 and now["state"]["name"] == "Alice 3"
    assert now["type"] == "User" and now["state"]["password_hash"] == "[redacted]"
    then = api.client.get(url, params={"version": 1}, headers=admin.headers).json()
    assert then["version"] == 1 and then["state"]["name"] == "Alice"
    at = api.client.get(url, params={"at": between.isoformat()}, headers=admin.headers).json()
    assert at["version"] == 4 and at["state"]["name"] == "Alice 2"
    before = (between - timedelta(days=1)).isoformat()
    r = api.client.get(url, params={"at": before}, headers=admin.headers)
    assert r.status_code == 404 and r.json()["code"] == "no_state_then"
    r = api.client.get(url, params={"version": 6}, headers=admin.headers)
    assert r.status_code == 404 and r.json()["code"] == "version_not_found"
    assert api.client.get(url, params={"at": "yesterday"}, headers=admin.headers).status_code == 422
    assert api.client.get(url, headers=alice.headers).status_code == 403


def test_audit_filters_by_actor_and_type(api: Api) -> None:
    admin = api.admin()
    alice, _ = _renamed_twice(api)
    r = api.client.patch(f"{API}/users/me", json={"name": "Alice 4"}, headers=alice.headers)
    wait = {**admin.headers, "X-Rentbook-Min-Position": r.headers["X-Rentbook-Position"]}
    by_alice = api.client.get(f"{API}/admin/audit", params={"actor": alice.id}, headers=wait)
    assert by_alice.status_code == 200
    rows = by_alice.json()["data"]
    assert [row["version"] for row in rows] == [4, 5, 6]  # sign-up and verifying are anonymous
    assert all(row["stream_id"] == alice.id for row in rows)
    registered = api.client.get(
        f"{API}/admin/audit", params={"type": "User.Registered", "limit": 1}, headers=wait
    ).json()
    assert len(registered["data"]) == 1 and registered["next_cursor"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = api.client.get(f"{API}/admin/audit", params={"from": future}, headers=wait).json()
    assert later["data"] == []
    assert api.client.get(f"{API}/admin/audit", headers=alice.headers).status_code == 403


def test_projections_are_listed_and_rebuilt(api: Api) -> None:
    admin = api.admin()
    api.new_user()
    r = api.client.get(f"{API}/admin/projections", headers=admin.headers)
    assert r.status_code == 200
    names = {p["name"] for p in r.json()["data"]}
    assert "audit" in names
    audit = next(p for p in r.json()["data"] if p["name"] == "audit")
    assert {"position", "lag_events", "lag_seconds", "status"} <= audit.keys()
    r = api.client.post(f"{API}/admin/projections/audit/rebuild", headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["status"] == "rebuilt" and r.json()["position"] >= 1
    r = api.client.post(f"{API}/admin/projections/nope/rebuild", headers=admin.headers)
    assert r.status_code == 404 and r.json()["code"] == "projection_not_found"
    user = api.new_user()
    r = api.client.post(f"{API}/admin/projections/audit/rebuild", headers=user.headers)
    assert r.status_code == 403


@pytest.mark.postgres
@pytest.mark.redis
def test_admin_replay_and_time_travel_on_postgres(pg_api: Api) -> None:
    admin = pg_api.admin()
    alice, between = _renamed_twice(pg_api)
    events = pg_api.client.get(f"{API}/admin/streams/{alice.id}/events", headers=admin.headers)
    assert [e["version"] for e in events.json()["data"]] == [1, 2, 3, 4, 5]
    at = pg_api.client.get(
        f"{API}/admin/streams/{alice.id}/state",
        params={"at": between.isoformat()},
        headers=admin.headers,
    )
    assert at.json()["state"]["name"] == "Alice 2"
    rebuilt = pg_api.client.post(f"{API}/admin/projections/audit/rebuild", headers=admin.headers)
    assert rebuilt.status_code == 200
