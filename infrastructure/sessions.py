"""Session stores: Redis (shared by every API process) and in-process (embedded default).

Tokens are never stored, only their sha256; a session lives `ttl` seconds after its last use.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import redis

from application.ports import Session, SessionStore


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _from_ms(ms: int | str | bytes) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


class InMemorySessionStore(SessionStore):
    """Thread-safe; expired sessions are dropped as they are met and by a periodic sweep."""

    SWEEP_EVERY = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[Session, int]] = {}  # token hash -> (session, ttl)
        self._by_user: dict[UUID, dict[UUID, str]] = {}  # user -> session id -> token hash
        self._creates = 0

    def create(self, user_id: UUID, roles: tuple[str, ...], ttl: int, at: datetime) -> Session:
        token = secrets.token_urlsafe(32)
        session = Session(
            id=uuid.uuid4(),
            user_id=user_id,
            roles=tuple(roles),
            csrf_token=secrets.token_urlsafe(32),
            created_at=at,
            last_seen_at=at,
            expires_at=at + timedelta(seconds=ttl),
        )
        with self._lock:
            self._creates += 1
            if self._creates % self.SWEEP_EVERY == 0:
                self._sweep(at)
            self._sessions[token_hash(token)] = (session, ttl)
            self._by_user.setdefault(user_id, {})[session.id] = token_hash(token)
        return replace(session, token=token)

    def get(self, token: str, at: datetime) -> Session | None:
        key = token_hash(token)
        with self._lock:
            found = self._sessions.get(key)
            if found is None:
                return None
            session, ttl = found
            if session.expires_at <= at:
                self._drop(key)
                return None
            session = replace(session, last_seen_at=at, expires_at=at + timedelta(seconds=ttl))
            self._sessions[key] = (session, ttl)
        return replace(session, token=token)

    def list(self, user_id: UUID, at: datetime) -> builtins.list[Session]:
        with self._lock:
            hashes = list(self._by_user.get(user_id, {}).values())
            live = []
            for key in hashes:
                session, _ = self._sessions[key]
                if session.expires_at <= at:
                    self._drop(key)
                else:
                    live.append(session)
        return sorted(live, key=lambda s: s.created_at)

    def revoke(self, user_id: UUID, session_id: UUID) -> bool:
        with self._lock:
            key = self._by_user.get(user_id, {}).get(session_id)
            if key is None:
                return False
            self._drop(key)
            return True

    def revoke_token(self, token: str) -> bool:
        key = token_hash(token)
        with self._lock:
            if key not in self._sessions:
                return False
            self._drop(key)
            return True

    def revoke_all(self, user_id: UUID) -> int:
        with self._lock:
            keys = list(self._by_user.get(user_id, {}).values())
            for key in keys:
                self._drop(key)
            return len(keys)

    def _drop(self, key: str) -> None:
        session, _ = self._sessions.pop(key)
        mine = self._by_user.get(session.user_id, {})
        mine.pop(session.id, None)
        if not mine:
            self._by_user.pop(session.user_id, None)

    def _sweep(self, at: datetime) -> None:
        for key in [k for k, (s, _) in self._sessions.items() if s.expires_at <= at]:
            self._drop(key)


# Keys: {p}session:{sha256(token)} -> hash of the session's fields, TTL = its ttl;
#       {p}user-sessions:{user_id} -> hash session id -> token hash, TTL >= its longest session.
# Redis expires keys on its own clock; the stored expires_at (from `at`) is checked as well.

_CREATE = """
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return 1
"""

# KEYS[1] session; ARGV: at_ms, index key prefix. Returns the fields, or nil when gone.
_GET = """
local f = redis.call('HGETALL', KEYS[1])
if #f == 0 then return nil end
local s = {}
for i = 1, #f, 2 do s[f[i]] = f[i + 1] end
local at = tonumber(ARGV[1])
if tonumber(s['expires_at']) <= at then
  redis.call('DEL', KEYS[1])
  redis.call('HDEL', ARGV[2] .. s['user_id'], s['id'])
  return nil
end
local ttl = tonumber(s['ttl'])
local expires = at + ttl
redis.call('HSET', KEYS[1], 'expires_at', expires, 'last_seen_at', at)
redis.call('PEXPIRE', KEYS[1], ttl)
local index = ARGV[2] .. s['user_id']
if redis.call('PTTL', index) < ttl then redis.call('PEXPIRE', index, ttl) end
s['expires_at'] = tostring(expires)
s['last_seen_at'] = tostring(at)
local out = {}
for k, v in pairs(s) do out[#out + 1] = k; out[#out + 1] = v end
return out
"""

# KEYS[1] index; ARGV[1] session id, ARGV[2] session key prefix.
_REVOKE = """
local h = redis.call('HGET', KEYS[1], ARGV[1])
if not h then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('DEL', ARGV[2] .. h)
"""

# KEYS[1] session; ARGV[1] index key prefix.
_REVOKE_TOKEN = """
local f = redis.call('HMGET', KEYS[1], 'user_id', 'id')
if not f[1] then return 0 end
redis.call('HDEL', ARGV[1] .. f[1], f[2])
return redis.call('DEL', KEYS[1])
"""

# KEYS[1] index; ARGV[1] session key prefix.
_REVOKE_ALL = """
local hs = redis.call('HVALS', KEYS[1])
local n = 0
for _, h in ipairs(hs) do n = n + redis.call('DEL', ARGV[1] .. h) end
redis.call('DEL', KEYS[1])
return n
"""


class RedisSessionStore(SessionStore):
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._session_prefix = f"{prefix}session:"
        self._index_prefix = f"{prefix}user-sessions:"
        self._create = client.register_script(_CREATE)
        self._get = client.register_script(_GET)
        self._revoke = client.register_script(_REVOKE)
        self._revoke_token = client.register_script(_REVOKE_TOKEN)
        self._revoke_all = client.register_script(_REVOKE_ALL)

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisSessionStore:
        return cls(redis.Redis.from_url(url), prefix)

    def create(self, user_id: UUID, roles: tuple[str, ...], ttl: int, at: datetime) -> Session:
        token = secrets.token_urlsafe(32)
        h = token_hash(token)
        session = Session(
            id=uuid.uuid4(),
            user_id=user_id,
            roles=tuple(roles),
            csrf_token=secrets.token_urlsafe(32),
            created_at=at,
            last_seen_at=at,
            expires_at=at + timedelta(seconds=ttl),
        )
        fields = {
            "id": str(session.id),
            "user_id": str(user_id),
            "roles": ",".join(session.roles),
            "csrf_token": session.csrf_token,
            "created_at": _ms(at),
            "last_seen_at": _ms(at),
            "expires_at": _ms(session.expires_at),
            "ttl": ttl * 1000,
        }
        flat = [x for kv in fields.items() for x in kv]
        self._create(
            keys=[self._session_prefix + h, self._index_prefix + str(user_id)],
            args=[str(session.id), h, ttl * 1000, *flat],
        )
        return replace(session, token=token)

    def get(self, token: str, at: datetime) -> Session | None:
        raw = self._get(
            keys=[self._session_prefix + token_hash(token)], args=[_ms(at), self._index_prefix]
        )
        if not raw:
            return None
        fields = {_text(raw[i]): raw[i + 1] for i in range(0, len(raw), 2)}
        return replace(_session(fields), token=token)

    def list(self, user_id: UUID, at: datetime) -> builtins.list[Session]:
        index = self._index_prefix + str(user_id)
        entries = self._redis.hgetall(index)
        if not entries:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for h in entries.values():
            pipe.hgetall(self._session_prefix + _text(h))
        live, gone = [], []
        for (session_id, _), fields in zip(entries.items(), pipe.execute(), strict=True):
            if not fields:
                gone.append(session_id)
                continue
            session = _session({_text(k): v for k, v in fields.items()})
            if session.expires_at > at:
                live.append(session)
        if gone:  # entries of sessions Redis already expired
            self._redis.hdel(index, *gone)
        return sorted(live, key=lambda s: s.created_at)

    def revoke(self, user_id: UUID, session_id: UUID) -> bool:
        return bool(
            self._revoke(
                keys=[self._index_prefix + str(user_id)],
                args=[str(session_id), self._session_prefix],
            )
        )

    def revoke_token(self, token: str) -> bool:
        return bool(
            self._revoke_token(
                keys=[self._session_prefix + token_hash(token)], args=[self._index_prefix]
            )
        )

    def revoke_all(self, user_id: UUID) -> int:
        return int(
            self._revoke_all(keys=[self._index_prefix + str(user_id)], args=[self._session_prefix])
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _session(fields: dict[str, Any]) -> Session:
    roles = _text(fields["roles"])
    return Session(
        id=UUID(_text(fields["id"])),
        user_id=UUID(_text(fields["user_id"])),
        roles=tuple(roles.split(",")) if roles else (),
        csrf_token=_text(fields["csrf_token"]),
        created_at=_from_ms(_text(fields["created_at"])),
        last_seen_at=_from_ms(_text(fields["last_seen_at"])),
        expires_at=_from_ms(_text(fields["expires_at"])),
    )
