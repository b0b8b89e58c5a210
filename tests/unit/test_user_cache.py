"""The user cache's own rules on the in-memory store: entries expire (decrypted data does
not stay in memory past `seconds`), a load that raced a discard is not kept, a later
version is never replaced by an earlier one, and the size is bounded."""

from __future__ import annotations

from uuid import UUID

from application.store import EventStore
from application.user_cache import UserCache
from domain.user import User
from tests.builders import NOW


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def store_with_user() -> tuple[EventStore, UUID]:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    user = User.register("ada@example.com", "Ada", None, "hash", NOW)
    store.record(user)
    return store, user.id


def test_an_expired_entry_is_dropped_on_the_next_use_of_the_cache() -> None:
    store, user_id = store_with_user()
    clock = FakeClock()
    cache: UserCache[str] = UserCache(store, seconds=30, clock=clock)
    cache.put(user_id, 1, "Ada", epoch=cache.epoch)
    assert cache.get(user_id) == "Ada"

    clock.now += 30
    assert cache.get(UUID(int=1)) is None  # any use sweeps

    assert len(cache) == 0
    assert cache.get(user_id) is None


def test_a_load_that_raced_a_discard_is_not_kept() -> None:
    store, user_id = store_with_user()
    cache: UserCache[str] = UserCache(store)
    epoch = cache.epoch
    cache.discard(user_id)  # an erasure while the load ran

    cache.put(user_id, 1, "Ada", epoch=epoch)

    assert cache.get(user_id) is None


def test_an_earlier_version_does_not_replace_a_later_one() -> None:
    store, user_id = store_with_user()
    user: User = store.load(user_id, "user")
    user.update_profile(name="Ada L", phone=None, at=NOW)
    store.record(user)
    cache: UserCache[str] = UserCache(store)
    cache.put(user_id, 2, "Ada L", epoch=cache.epoch)

    cache.put(user_id, 1, "Ada", epoch=cache.epoch)  # a slower reader's older load

    assert cache.get(user_id) == "Ada L"


def test_the_oldest_entries_go_beyond_maxsize_and_size_zero_keeps_nothing() -> None:
    store, user_id = store_with_user()
    other = User.register("bob@example.com", "Bob", None, "hash", NOW)
    store.record(other)
    cache: UserCache[str] = UserCache(store, maxsize=1)
    cache.put(user_id, 1, "Ada", epoch=cache.epoch)
    cache.put(other.id, 1, "Bob", epoch=cache.epoch)
    assert (cache.get(user_id), cache.get(other.id)) == (None, "Bob")

    off: UserCache[str] = UserCache(store, maxsize=0)
    off.put(user_id, 1, "Ada", epoch=off.epoch)
    assert len(off) == 0
