"""A read mark beyond any log position is refused with a 422 problem, not a 500 from the
store (found by the OpenAPI fuzz: `{"up_to": 843284687722100293632}` overflowed SQLite)."""

from __future__ import annotations

from tests.http.conftest import API, Api

MAX_POSITION = 2**63 - 1


def test_a_read_mark_beyond_any_log_position_is_a_422(any_api: Api) -> None:
    alice = any_api.new_user()
    r = any_api.client.post(
        f"{API}/me/notifications/read", json={"up_to": MAX_POSITION + 1}, headers=alice.headers
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_largest_log_position_is_a_valid_read_mark(any_api: Api) -> None:
    alice = any_api.new_user()
    r = any_api.client.post(
        f"{API}/me/notifications/read", json={"up_to": MAX_POSITION}, headers=alice.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["unread_count"] == 0
