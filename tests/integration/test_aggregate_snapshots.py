"""Growing streams (owner accounts, listings, users) load from a snapshot plus its tail, and
that state equals the full replay, on SQLite and PostgreSQL; a Hypothesis property checks
random command sequences against a store that snapshots every few events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import given, settings
from hypothesis import strategies as st

from application.context import Actor
from application.store import EventStore
from domain.listing import Listing
from domain.owner_account import OwnerAccount
from domain.user import User
from infrastructure.eventstore import build_event_store
from infrastructure.settings import Settings
from tests.builders import NOW, listing_spec

OWNER = Actor(uuid.uuid4(), "user")


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def replayed(store: EventStore, aggregate_id: uuid.UUID) -> Aggregate:
    aggregate = None
    for event in store.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)
    assert aggregate is not None
    return aggregate


def account_reports(store: EventStore, count: int) -> uuid.UUID:
    account = OwnerAccount(owner_id=OWNER.id, account_id="acct_1", at=NOW)
    store.record(account)
    for i in range(count):
        account.update_status(
            f"evt_{i}", "acct_1", charges_enabled=True, payouts_enabled=i % 2 == 0,
            reported_at=NOW + timedelta(minutes=i), at=NOW + timedelta(minutes=i),
        )  # fmt: skip
        if i % 7 == 6:  # several commands' worth per save, as webhooks arrive
            store.record(account)
    store.record(account)
    return account.id


def price_overrides(store: EventStore, count: int) -> uuid.UUID:
    listing = Listing.create(OWNER.id, listing_spec(), NOW)
    for i in range(count):
        day = date(2026, 7, 1) + timedelta(days=i % 40)
        if i % 5 == 4:
            listing.clear_price_override(day, OWNER.id, NOW)
        else:
            listing.set_price_override(day, 1000 + i, OWNER.id, NOW)
        store.record(listing)
    return listing.id


def lockouts(store: EventStore, count: int) -> uuid.UUID:
    user = User.register("busy@example.com", "Busy", None, "hash-0", NOW)
    for i in range(count):
        user.record_lockout(NOW + timedelta(minutes=15 + i), NOW + timedelta(minutes=i))
        if i % 3 == 0:
            user.change_password_hash(f"hash-{i}", NOW)
        store.record(user)
    return user.id


MAKERS: dict[str, Callable[[EventStore, int], uuid.UUID]] = {
    "owner_account": account_reports,
    "listing": price_overrides,
    "user": lockouts,
}


@pytest.fixture(params=["sqlite", "postgres"])
def settings_for(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "postgres":
        yield Settings(
            environment="test", database_url=request.getfixturevalue("pg_url"),
            postgres_pool_size=2, postgres_max_overflow=2,
        )  # fmt: skip
    else:
        yield Settings(environment="test", data_dir=tmp_path)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_snapshot_plus_tail_equals_the_full_replay(settings_for: Settings, kind: str) -> None:
    store = build_event_store(settings_for)
    try:
        aggregate_id = MAKERS[kind](store, 120)
        assert store.snapshots is not None
        snapshots = list(store.snapshots.get(aggregate_id, desc=True))
        assert snapshots, "no snapshot was taken"
        fresh = build_event_store(settings_for)
        try:
            loaded = fresh.repository.get(aggregate_id)
            full = replayed(fresh, aggregate_id)
            assert loaded.version > snapshots[0].originator_version  # snapshot + a tail
            assert state(loaded) == state(full)
        finally:
            fresh.close()
    finally:
        store.close()


class EveryFewEvents(EventStore):
    name = EventStore.name
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        kind: 3 for kind in (OwnerAccount, Listing, User)
    }


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(sorted(MAKERS)), count=st.integers(min_value=1, max_value=30))
def test_any_history_loads_the_same_from_snapshots(kind: str, count: int) -> None:
    store = EveryFewEvents(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    aggregate_id = MAKERS[kind](store, count)
    assert state(store.repository.get(aggregate_id)) == state(replayed(store, aggregate_id))
