"""Rate limiting (GCRA) and login-failure lockouts: Redis and in-process adapters.

GCRA keeps one "theoretical arrival time" per key: `limit` hits per `window` are allowed,
spread smoothly, in O(1) memory; a refused hit does not count. The Redis versions run as Lua
scripts, so concurrent API processes can never let more through than the limit.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
from datetime import UTC, datetime, timedelta

import redis

from application.ports import Clock, LoginFailureTracker, RateDecision, RateLimiter
from infrastructure.clock import SystemClock


def _gcra(tat_ms: int | None, now_ms: int, limit: int, window_ms: int) -> tuple[bool, int, int]:
    """(allowed, new tat, retry after ms) — the Lua script below is the same algorithm."""
    interval = window_ms / limit
    tat = max(tat_ms or 0, now_ms)
    new_tat = tat + interval
    if new_tat - now_ms > window_ms:
        return False, int(tat), math.ceil(new_tat - now_ms - window_ms)
    return True, math.ceil(new_tat), 0


def _decision(allowed: bool, retry_after_ms: int) -> RateDecision:
    retry = 0 if allowed else max(1, math.ceil(retry_after_ms / 1000))
    return RateDecision(allowed=allowed, retry_after=retry)


def _check(limit: int, window_seconds: int) -> None:
    if limit < 1 or window_seconds < 1:
        raise ValueError("limit and window_seconds must be positive")


class InMemoryRateLimiter(RateLimiter):
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._tat: dict[str, int] = {}

    def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        _check(limit, window_seconds)
        now = int(self._clock.now().timestamp() * 1000)
        with self._lock:
            if len(self._tat) > 10_000:  # drop keys whose window has passed
                self._tat = {k: t for k, t in self._tat.items() if t > now}
            allowed, tat, retry = _gcra(self._tat.get(key), now, limit, window_seconds * 1000)
            self._tat[key] = tat
        return _decision(allowed, retry)


_GCRA = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local interval = window / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > window then
  return {0, math.ceil(new_tat - now - window)}
end
new_tat = math.ceil(new_tat)
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.max(1, new_tat - now))
return {1, 0}
"""


class RedisRateLimiter(RateLimiter):
    """Times come from the injected clock (the API hosts' clocks are assumed in sync)."""

    def __init__(self, client: redis.Redis, prefix: str, clock: Clock | None = None) -> None:
        self._prefix = f"{prefix}rate:"
        self._clock = clock or SystemClock()
        self._script = client.register_script(_GCRA)

    def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        _check(limit, window_seconds)
        now = int(self._clock.now().timestamp() * 1000)
        allowed, retry = self._script(
            keys=[self._prefix + key], args=[now, limit, window_seconds * 1000]
        )
        return _decision(bool(allowed), int(retry))


class InMemoryLoginFailures(LoginFailureTracker):
    def __init__(
        self, max_failures: int, window: timedelta, lockout: timedelta, *, max_keys: int = 10_000
    ) -> None:
        self._max = max_failures
        self._max_keys = max_keys  # past it, stale failures and lapsed locks are dropped
        self._window = window
        self._lockout = lockout
        self._lock = threading.Lock()
        self._failures: dict[str, list[datetime]] = {}
        self._locks: dict[str, datetime] = {}

    def locked_until(self, key: str, at: datetime) -> datetime | None:
        with self._lock:
            until = self._locks.get(key)
            if until is not None and until <= at:
                del self._locks[key]
                return None
            return until

    def record_failure(self, key: str, at: datetime) -> datetime | None:
        with self._lock:
            if len(self._failures) > self._max_keys:  # forget accounts whose failures are stale
                self._failures = {
                    k: v for k, v in self._failures.items() if v[-1] > at - self._window
                }
            if len(self._locks) > self._max_keys:  # locks of accounts never tried again
                self._locks = {k: u for k, u in self._locks.items() if u > at}
            recent = [t for t in self._failures.get(key, []) if t > at - self._window]
            recent.append(at)
            if len(recent) < self._max:
                self._failures[key] = recent
                return None
            self._failures.pop(key, None)
            until = at + self._lockout
            self._locks[key] = until
            return until

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def __len__(self) -> int:
        """Accounts tracked: with failures, or locked."""
        with self._lock:
            return len(self._failures.keys() | self._locks.keys())


# KEYS[1] failures (sorted set of failure instants), KEYS[2] lock;
# ARGV: at_ms, window_ms, max, lockout_ms, member. Returns the unlock ms or 0.
_FAIL = """
local at = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - window)
redis.call('ZADD', KEYS[1], at, ARGV[5])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
redis.call('DEL', KEYS[1])
local until_ms = at + tonumber(ARGV[4])
redis.call('SET', KEYS[2], string.format('%d', until_ms), 'PX', ARGV[4])
return until_ms
"""


class RedisLoginFailures(LoginFailureTracker):
    """Keys are sha256 of the account key, so no email address is written to Redis."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        max_failures: int,
        window: timedelta,
        lockout: timedelta,
    ) -> None:
        self._redis = client
        self._prefix = f"{prefix}login:"
        self._max = max_failures
        self._window_ms = int(window.total_seconds() * 1000)
        self._lockout_ms = int(lockout.total_seconds() * 1000)
        self._script = client.register_script(_FAIL)

    def _keys(self, key: str) -> tuple[str, str]:
        h = hashlib.sha256(key.encode()).hexdigest()
        return f"{self._prefix}failures:{h}", f"{self._prefix}lock:{h}"

    def locked_until(self, key: str, at: datetime) -> datetime | None:
        raw = self._redis.get(self._keys(key)[1])
        if raw is None:
            return None
        until = datetime.fromtimestamp(int(raw) / 1000, UTC)
        return until if until > at else None

    def record_failure(self, key: str, at: datetime) -> datetime | None:
        member = secrets.token_hex(8)  # two failures in one millisecond both count
        until_ms = int(
            self._script(
                keys=list(self._keys(key)),
                args=[
                    int(at.timestamp() * 1000),
                    self._window_ms,
                    self._max,
                    self._lockout_ms,
                    member,
                ],
            )
        )
        return datetime.fromtimestamp(until_ms / 1000, UTC) if until_ms else None

    def reset(self, key: str) -> None:
        self._redis.delete(self._keys(key)[0])
