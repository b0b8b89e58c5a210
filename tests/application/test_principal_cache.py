"""PrincipalCache: entries end at the TTL or the session's expiry, whichever is first; a
lookup that raced a revocation is not cached; the size is bounded."""

from __future__ import annotations

import uuid
from datetime import timedelta

from application.identity import Principal
from application.principal_cache import PrincipalCache
from tests.builders import NOW


def principal() -> Principal:
    return Principal(uuid.uuid4(), ("user",), uuid.uuid4(), "csrf")


def test_an_entry_lives_the_ttl_but_never_past_its_sessions_expiry() -> None:
    cache, p, q = PrincipalCache(5), principal(), principal()
    cache.put("a", p, at=NOW, expires_at=NOW + timedelta(days=1), epoch=cache.epoch)
    cache.put("b", q, at=NOW, expires_at=NOW + timedelta(seconds=2), epoch=cache.epoch)
    assert cache.get("a", NOW + timedelta(seconds=4.9)) == p
    assert cache.get("b", NOW + timedelta(seconds=1.9)) == q
    assert cache.get("b", NOW + timedelta(seconds=2)) is None
    assert cache.get("a", NOW + timedelta(seconds=5)) is None


def test_a_lookup_that_raced_a_revocation_is_not_cached() -> None:
    cache, p = PrincipalCache(5), principal()
    epoch = cache.epoch  # the lookup starts
    cache.forget_session(p.session_id)  # meanwhile the session is revoked
    cache.put("a", p, at=NOW, expires_at=NOW + timedelta(days=1), epoch=epoch)
    assert cache.get("a", NOW) is None


def test_forgetting_by_user_session_or_token_drops_only_those() -> None:
    cache, p, q = PrincipalCache(5), principal(), principal()
    for token, who in (("a", p), ("b", q), ("c", p)):
        cache.put(token, who, at=NOW, expires_at=NOW + timedelta(days=1), epoch=cache.epoch)
    cache.forget_token("c")
    assert [cache.get(t, NOW) for t in "abc"] == [p, q, None]
    cache.forget_user(p.user_id)
    assert [cache.get(t, NOW) for t in "ab"] == [None, q]
    cache.forget_session(q.session_id)
    assert cache.get("b", NOW) is None


def test_size_is_bounded_and_a_zero_ttl_caches_nothing() -> None:
    cache = PrincipalCache(5, max_entries=2)
    for token in "abc":
        cache.put(token, principal(), at=NOW, expires_at=NOW + timedelta(days=1), epoch=0)
    assert cache.get("a", NOW) is None and cache.get("c", NOW) is not None
    off = PrincipalCache(0)
    off.put("a", principal(), at=NOW, expires_at=NOW + timedelta(days=1), epoch=0)
    assert off.get("a", NOW) is None
