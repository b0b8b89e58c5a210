"""Redis adapters on the real Redis: sessions, sliding expiry, revocation, rate limits, lockout."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
import redis

from infrastructure.clock import SystemClock
from infrastructure.ratelimit import RedisLoginFailures, RedisRateLimiter
from infrastructure.sessions import RedisSessionStore

pytestmark = pytest.mark.redis
clock = SystemClock()


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


@pytest.fixture
def sessions(client: redis.Redis, redis_prefix: str) -> RedisSessionStore:
    return RedisSessionStore(client, redis_prefix)


def test_a_session_is_found_by_its_token_which_is_stored_only_hashed(
    sessions: RedisSessionStore, client: redis.Redis, redis_prefix: str
) -> None:
    user_id = uuid4()
    created = sessions.create(user_id, ("renter", "owner"), ttl=3600, at=clock.now())
    assert created.token
    found = sessions.get(created.token, clock.now())
    assert found is not None
    assert (found.id, found.user_id, found.roles) == (created.id, user_id, ("renter", "owner"))
    assert found.csrf_token == created.csrf_token
    assert sessions.get("not-a-token", clock.now()) is None

    stored = b"".join(
        k + b"".join(client.hvals(k)) for k in client.scan_iter(match=redis_prefix + "*")
    )
    assert created.token.encode() not in stored
    assert hashlib.sha256(created.token.encode()).hexdigest().encode() in stored
    assert all(0 < client.ttl(k) <= 3600 for k in client.scan_iter(match=redis_prefix + "*"))


def test_using_a_session_slides_its_expiry(sessions: RedisSessionStore) -> None:
    created = sessions.create(uuid4(), ("renter",), ttl=1, at=clock.now())
    assert created.token
    for _ in range(3):  # used every 0.6 s, a 1 s session lives on
        time.sleep(0.6)
        found = sessions.get(created.token, clock.now())
        assert found is not None
        assert found.expires_at > created.expires_at
    time.sleep(1.1)
    assert sessions.get(created.token, clock.now()) is None


def test_the_stored_expiry_is_honoured_even_before_redis_drops_the_key(
    sessions: RedisSessionStore,
) -> None:
    created = sessions.create(uuid4(), ("renter",), ttl=60, at=clock.now())
    assert created.token
    assert sessions.get(created.token, clock.now() + timedelta(seconds=61)) is None
    assert sessions.get(created.token, clock.now()) is None  # it was deleted


def test_sessions_are_listed_and_revoked_one_by_one_or_all(sessions: RedisSessionStore) -> None:
    user_id, other_id = uuid4(), uuid4()
    first = sessions.create(user_id, ("renter",), ttl=3600, at=clock.now())
    second = sessions.create(user_id, ("renter",), ttl=3600, at=clock.now() + timedelta(seconds=1))
    third = sessions.create(user_id, ("renter",), ttl=3600, at=clock.now() + timedelta(seconds=2))
    others = sessions.create(other_id, ("renter",), ttl=3600, at=clock.now())
    listed = sessions.list(user_id, clock.now())
    assert [s.id for s in listed] == [first.id, second.id, third.id]
    assert all(s.token is None for s in listed)

    assert not sessions.revoke(other_id, first.id)  # not theirs
    assert sessions.revoke(user_id, first.id)
    assert not sessions.revoke(user_id, first.id)
    assert first.token and sessions.get(first.token, clock.now()) is None

    assert second.token and sessions.revoke_token(second.token)
    assert not sessions.revoke_token(second.token)
    assert [s.id for s in sessions.list(user_id, clock.now())] == [third.id]

    sessions.create(user_id, ("renter",), ttl=3600, at=clock.now())
    assert sessions.revoke_all(user_id) == 2
    assert sessions.list(user_id, clock.now()) == []
    assert others.token and sessions.get(others.token, clock.now()) is not None


def test_a_revoked_session_cannot_be_revived_by_a_racing_touch(
    sessions: RedisSessionStore,
) -> None:
    user_id = uuid4()
    created = sessions.create(user_id, ("renter",), ttl=3600, at=clock.now())
    token = created.token
    assert token
    stop = threading.Event()

    def touch() -> None:
        while not stop.is_set():
            sessions.get(token, clock.now())

    toucher = threading.Thread(target=touch)
    toucher.start()
    try:
        assert sessions.revoke(user_id, created.id)
        time.sleep(0.05)
    finally:
        stop.set()
        toucher.join()
    assert sessions.get(token, clock.now()) is None


def test_the_rate_limiter_allows_the_limit_per_window_then_asks_to_retry(
    client: redis.Redis, redis_prefix: str
) -> None:
    limiter = RedisRateLimiter(client, redis_prefix)
    decisions = [limiter.hit("login:1.2.3.4", limit=5, window_seconds=1) for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert decisions[-1].retry_after == 1
    assert limiter.hit("login:5.6.7.8", limit=5, window_seconds=1).allowed  # per key
    time.sleep(1.05)
    assert limiter.hit("login:1.2.3.4", limit=5, window_seconds=1).allowed


def test_racing_hits_never_exceed_the_limit(client: redis.Redis, redis_prefix: str) -> None:
    limiter = RedisRateLimiter(client, redis_prefix)
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(10):
            ok = limiter.hit("shared", limit=20, window_seconds=60).allowed
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 20


def test_failures_lock_an_account_until_the_lockout_passes(
    client: redis.Redis, redis_prefix: str
) -> None:
    failures = RedisLoginFailures(
        client, redis_prefix, 3, window=timedelta(seconds=30), lockout=timedelta(seconds=1)
    )
    now = clock.now()
    assert failures.record_failure("email:ada", now) is None
    assert failures.record_failure("email:ada", now) is None
    until = failures.record_failure("email:ada", now)
    assert until is not None and timedelta(seconds=0.99) < until - now <= timedelta(seconds=1)
    assert failures.locked_until("email:ada", clock.now()) == until
    assert failures.locked_until("email:bob", clock.now()) is None
    # Only what follows the prefix: the prefix is random hex, and may itself hold "ada".
    own = len(redis_prefix)
    assert not any(b"ada" in k[own:] for k in client.scan_iter(match=redis_prefix + "*"))
    time.sleep(1.05)
    assert failures.locked_until("email:ada", clock.now()) is None


def test_a_reset_forgets_failures(client: redis.Redis, redis_prefix: str) -> None:
    failures = RedisLoginFailures(
        client, redis_prefix, 3, window=timedelta(seconds=30), lockout=timedelta(seconds=30)
    )
    for _ in range(2):
        failures.record_failure("email:ada", clock.now())
    failures.reset("email:ada")
    for _ in range(2):
        assert failures.record_failure("email:ada", clock.now()) is None
