"""The idempotency table's bounded key column (varchar(255) on PostgreSQL, which counts
characters) against what a client can send: header bytes are read as latin-1, one
character each, so a key of 127 two-byte UTF-8 letters (254 bytes) is stored and replays,
and one of 128 (256 bytes) is refused 422 at the boundary, never a 500 from the database.
On SQLite and PostgreSQL."""

from __future__ import annotations

from tests.http.conftest import Api
from tests.http.crosscutting_support import COUNT, Counter, assert_problem


def test_keys_of_non_ascii_bytes_are_bounded_by_bytes(any_api: Api) -> None:
    api = any_api
    counter = Counter(api)
    alice = api.new_user()
    longest = {**alice.headers, "Idempotency-Key": ("é" * 127).encode()}
    first = api.client.post(COUNT, json={}, headers=longest)
    assert first.status_code == 201, first.text
    again = api.client.post(COUNT, json={}, headers=longest)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.text == first.text
    too_long = {**alice.headers, "Idempotency-Key": ("é" * 128).encode()}
    assert_problem(api.client.post(COUNT, json={}, headers=too_long), 422)
    assert counter.calls == 1
