"""The column store's page bodies are handed only to queries of the write generation they
were read under: a body moves with every write (version, blocked days)."""

from __future__ import annotations

from infrastructure.search_columns import BodyCache


def test_bodies_are_served_only_for_their_generation() -> None:
    cache = BodyCache(held=10)
    cache.put(5, {1: b"v1", 2: b"v1"})
    assert cache.get(5, [1, 2, 3]) == {1: b"v1", 2: b"v1"}
    assert cache.get(4, [1]) == {}  # an older snapshot reads its own
    assert cache.get(6, [1]) == {}  # so does a newer one


def test_a_newer_generation_starts_afresh_and_an_older_one_is_not_kept() -> None:
    cache = BodyCache(held=10)
    cache.put(5, {1: b"v1"})
    cache.put(6, {2: b"v2"})
    assert cache.get(6, [1, 2]) == {2: b"v2"}
    cache.put(5, {1: b"v1"})  # a slower query of the older generation
    assert cache.get(6, [1]) == {} and cache.get(5, [1]) == {}


def test_the_cache_stays_within_its_bound() -> None:
    cache = BodyCache(held=3)
    cache.put(1, {1: b"a", 2: b"b"})
    cache.put(1, {3: b"c", 4: b"d"})
    assert len(cache.get(1, [1, 2, 3, 4])) <= 3
    assert cache.get(1, [3, 4]) == {3: b"c", 4: b"d"}
